from unittest.mock import AsyncMock

from app.ws import manager


async def test_connect_accepts_socket():
    ws = AsyncMock()
    await manager.connect(ws, "user:alice", user_id="alice")
    ws.accept.assert_awaited_once()


async def test_connect_registers_channel():
    ws = AsyncMock()
    await manager.connect(ws, "user:alice", user_id="alice")
    assert ws in manager.active_connections["user:alice"]


async def test_connect_registers_user():
    ws = AsyncMock()
    await manager.connect(ws, "user:alice", user_id="alice")
    assert ws in manager.user_connections["alice"]


async def test_duplicate_subscribe():
    ws = AsyncMock()
    await manager.connect(ws, "user:alice", user_id="alice")
    await manager.connect(ws, "user:alice", user_id="alice")
    # Subscribing twice should not break anything.
    assert True
