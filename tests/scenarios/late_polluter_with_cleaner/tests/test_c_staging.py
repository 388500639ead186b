import os

from app.settings import websocket_url


def test_staging_url_from_environment():
    os.environ["APP_WS_URL"] = "wss://staging.invalid/ws"  # should have used monkeypatch.setenv
    assert websocket_url().startswith("wss://")
