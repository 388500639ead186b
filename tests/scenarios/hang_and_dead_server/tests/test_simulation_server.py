import json
import logging
import socket

import pytest
from websockets.sync.client import connect

from app.server import SimulationServer


@pytest.fixture
def server():
    # Paused, so that tests decide when ticks happen.
    srv = SimulationServer(tick_interval=None).start()
    yield srv
    srv.stop()


@pytest.fixture
def client(server):
    with connect(server.url, open_timeout=2) as ws:
        yield ws


def test_ping_pong(client):
    client.send(json.dumps({"type": "ping"}))
    assert json.loads(client.recv(timeout=2)) == {"type": "pong"}


def test_get_state(client):
    client.send(json.dumps({"type": "get_state"}))
    assert json.loads(client.recv(timeout=2)) == {
        "type": "state", "tick": 0, "tax_rate": 0.2, "interest_rate": 0.05,
    }


def test_command_applied_on_step(server, client):
    client.send(json.dumps({"type": "command", "name": "tax_rate", "value": 0.3}))
    # get_state is answered after the command has been queued (one handler per connection)
    client.send(json.dumps({"type": "get_state"}))
    assert json.loads(client.recv(timeout=2))["tax_rate"] == 0.2
    server.step()
    assert json.loads(client.recv(timeout=2)) == {"type": "ack", "name": "tax_rate", "tick": 1}


def test_receive_reply(client):
    client.send(json.dumps({"type": "command", "name": "interest_rate", "value": 0.07}))
    reply = json.loads(client.recv())
    assert reply["type"] == "ack"


def test_unknown_type_gets_error(client):
    client.send(json.dumps({"type": "reset"}))
    assert json.loads(client.recv(timeout=2)) == {"type": "error", "reason": "unknown type 'reset'"}


def test_startup_error_is_only_logged(caplog):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with caplog.at_level(logging.ERROR, logger="app.server"):
            srv = SimulationServer(port=port, tick_interval=None).start()
            srv.stop()
    assert not srv.running
    assert "simulation server crashed" in caplog.text
    assert "address already in use" in caplog.text.lower()
