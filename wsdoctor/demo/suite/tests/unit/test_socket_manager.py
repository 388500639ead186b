import asyncio
import json
import sys
from unittest.mock import AsyncMock, MagicMock

# Unit tests should not need the websockets library.
sys.modules["websockets"] = MagicMock()

from app.socket_manager import SocketManager  # noqa: E402


class TestSocketManager:
    def test_initialization(self):
        mgr = SocketManager("ws://sim.local:8765")
        assert mgr.url == "ws://sim.local:8765"
        assert mgr.connection is None
        assert mgr.audit_log == []

    def test_send_command(self):
        mgr = SocketManager("ws://sim.local:8765")
        mgr.connection = AsyncMock()
        asyncio.run(mgr.send_command("pause", reason="maintenance"))
        sent = json.loads(mgr.connection.send.await_args.args[0])
        assert sent == {"type": "command", "name": "pause", "params": {"reason": "maintenance"}}

    def test_telemetry_handling(self):
        mgr = SocketManager("ws://sim.local:8765")
        mgr.handle_message(json.dumps({"type": "telemetry", "tick": 7}))
        assert mgr.latest_telemetry == {"type": "telemetry", "tick": 7}
        assert [event for _, event in mgr.audit_log] == ["recv:telemetry"]
