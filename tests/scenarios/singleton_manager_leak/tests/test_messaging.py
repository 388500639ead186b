from unittest.mock import AsyncMock

from app.ws import manager


async def test_broadcast_reaches_subscriber():
    ws = AsyncMock()
    await manager.connect(ws, "user:alice", user_id="alice")
    await manager.broadcast("user:alice", {"type": "notification", "text": "hi"})
    ws.send_json.assert_awaited_with({"type": "notification", "text": "hi"})


async def test_broadcast_includes_timestamp():
    ws = AsyncMock()
    await manager.connect(ws, "user:alice", user_id="alice")
    await manager.broadcast("user:alice", {"type": "tick", "timestamp": "2026-02-11T04:04:43Z"})
    sent = ws.send_json.await_args.args[0]
    assert sent["timestamp"] == "2026-02-11T04:04:43Z"


async def test_personal_message():
    ws = AsyncMock()
    await manager.connect(ws, "user:alice", user_id="alice")
    await manager.send_personal_message("alice", {"type": "dm", "text": "psst"})
    ws.send_json.assert_awaited_with({"type": "dm", "text": "psst"})


async def test_broadcast_survives_send_error():
    broken = AsyncMock()
    broken.send_json.side_effect = ConnectionResetError("client went away")
    healthy = AsyncMock()
    await manager.connect(broken, "user:alice", user_id="alice")
    await manager.connect(healthy, "user:alice", user_id="alice")
    await manager.broadcast("user:alice", {"type": "ping"})
    healthy.send_json.assert_awaited_with({"type": "ping"})
