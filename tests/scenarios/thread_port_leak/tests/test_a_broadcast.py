import json

from websockets.sync.client import connect

from app.broadcast import price_message


def test_price_message_format():
    assert price_message("aapl", 189.499) == {"type": "price", "symbol": "AAPL", "price": 189.5}


def test_broadcast_server(broadcast_server, ws_port):
    url = f"ws://127.0.0.1:{ws_port}"
    with connect(url, open_timeout=2) as alice, connect(url, open_timeout=2) as bob:
        # the welcome means the server has registered the client
        assert json.loads(alice.recv(timeout=2)) == {"type": "welcome"}
        assert json.loads(bob.recv(timeout=2)) == {"type": "welcome"}

        broadcast_server.publish(price_message("MSFT", 411.2))

        assert json.loads(alice.recv(timeout=2))["symbol"] == "MSFT"
        assert json.loads(bob.recv(timeout=2))["symbol"] == "MSFT"
