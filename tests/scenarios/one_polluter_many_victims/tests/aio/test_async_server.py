from unittest.mock import MagicMock

import pytest

from app import packet
from app.server import AsyncServer


async def test_handshake_creates_a_session():
    server = AsyncServer()
    sid = await server.handshake()
    assert server.sessions[sid] == "/"


@pytest.mark.parametrize("prefix", [f"p{i}-" for i in range(28)])
async def test_session_ids_use_the_prefix(prefix):
    server = AsyncServer()
    assert (await server.handshake(prefix)).startswith(prefix)


async def test_custom_json_module_is_used():
    # Direct assignment, not patch(): nothing puts the real json module back.
    packet.Packet.json = MagicMock()
    packet.Packet(packet.EVENT, data={"a": 1}).encode()
    packet.Packet.json.dumps.assert_called_once_with({"a": 1}, separators=(",", ":"))


async def test_disconnect_packet():
    server = AsyncServer()
    sid = await server.handshake()
    assert await server.disconnect(sid) == "1"
    assert sid not in server.sessions
