import json

from websockets.sync.client import connect

from app.server import SimulationServer


def test_command_injection():
    with SimulationServer() as server:
        with connect(server.url, open_timeout=2) as ws:
            ws.send(json.dumps({"type": "command", "name": "pause"}))
            reply = json.loads(ws.recv(timeout=2))
    assert reply == {"type": "ack", "command": "pause"}
    assert server.commands[0]["name"] == "pause"


def test_telemetry_broadcast():
    with SimulationServer() as server:
        with connect(server.url, open_timeout=2) as ws:
            ws.send(json.dumps({"type": "get_telemetry"}))
            first = json.loads(ws.recv(timeout=2))
            ws.send(json.dumps({"type": "get_telemetry"}))
            second = json.loads(ws.recv(timeout=2))
    assert first == {"type": "telemetry", "tick": 1}
    assert second["tick"] == 2
