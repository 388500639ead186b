from starlette.testclient import TestClient

from app.web import create_app


def test_message_is_acknowledged():
    with TestClient(create_app()).websocket_connect("/ws?user=carol") as ws:
        ws.send_json({"text": " hello "})
        assert ws.receive_json() == {"type": "ack", "message": {"type": "message", "text": "hello", "room": "lobby"}}


def test_invalid_message_gets_an_error():
    with TestClient(create_app()).websocket_connect("/ws?user=carol") as ws:
        ws.send_json({"text": ""})
        assert ws.receive_json() == {"type": "error", "reason": "text is required"}
