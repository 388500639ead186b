from unittest.mock import MagicMock

from app.server import Server


def test_server_accepts_a_custom_json_module():
    custom_json = MagicMock()
    server = Server(json=custom_json)  # installs it on Packet.json for the whole process
    server.emit("ready", {})
    custom_json.dumps.assert_called_once()
