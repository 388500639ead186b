from starlette.testclient import TestClient

from app.main import create_app


def test_ping_gets_pong_over_websocket():
    client = TestClient(create_app())
    with client.websocket_connect("/ws") as ws:
        ws.send_text('{"op": "ping", "seq": 7}')
        assert ws.receive_json() == {"op": "pong", "seq": 7}


def test_unknown_op_gets_error():
    client = TestClient(create_app())
    with client.websocket_connect("/ws") as ws:
        ws.send_text('{"op": "subscribe"}')
        assert ws.receive_json() == {"op": "error"}
