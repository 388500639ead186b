import pytest

from app.settings import Settings, configure, get_settings


def test_defaults():
    settings = Settings()
    assert settings.heartbeat_interval == 20.0
    assert settings.max_message_size == 65536


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        Settings().server_name = "other"


def test_load_settings():
    configured = configure(server_name="wsgate-test", heartbeat_interval=5.0)
    assert get_settings() is configured
    assert configured.server_name == "wsgate-test"
