from app import client_config
from app.client_config import ClientConfig


def test_save_writes_the_rc_file():
    path = client_config.save(ClientConfig(reconnect=False, ping_interval=5.0))
    assert path.name == ".wsclientrc"
    assert "reconnect = false" in path.read_text()


def test_rc_file_lives_in_home(isolated_home):
    assert client_config.rc_path() == isolated_home / ".wsclientrc"
