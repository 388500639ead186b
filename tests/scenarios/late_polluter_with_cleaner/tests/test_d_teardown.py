from app import settings


def test_teardown_resets_environment():
    settings.reset_environment()
    assert settings.websocket_url().startswith("ws://127.0.0.1")
