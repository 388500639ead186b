from app import client_config
from app.client_config import ClientConfig


def test_defaults_without_an_rc_file():
    assert client_config.load() == ClientConfig()
