def test_staging_url_from_environment(monkeypatch):
    monkeypatch.setenv("APP_WS_URL", "wss://staging.example.com/ws")
    from app.settings import get_settings

    assert get_settings().ws_url == "wss://staging.example.com/ws"


def test_default_settings():
    from app.settings import get_settings

    settings = get_settings()
    assert settings.ws_url == "ws://127.0.0.1:8000/ws"
    assert settings.max_connections == 100
