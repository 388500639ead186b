from app.settings import websocket_url


def test_default_websocket_url():
    assert websocket_url() == "ws://127.0.0.1:0/ws"
