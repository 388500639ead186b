from app import settings


def test_reset_environment_is_idempotent():
    settings.reset_environment()
    settings.reset_environment()
    assert "APP_WS_URL" not in __import__("os").environ
