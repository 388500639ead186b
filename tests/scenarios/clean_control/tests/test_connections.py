from unittest.mock import AsyncMock

import app.ws


async def test_global_manager_is_isolated(manager):
    assert app.ws.manager is manager
    assert manager.get_stats() == {"channels": 0, "total_connections": 0, "users": 0}


async def test_connect_accepts_and_registers(manager):
    ws = AsyncMock()
    await manager.connect(ws, "user:alice", user_id="alice")
    ws.accept.assert_awaited_once()
    assert manager.active_connections == {"user:alice": [ws]}
    assert manager.user_connections == {"alice": [ws]}
    manager.disconnect(ws, "user:alice", user_id="alice")


async def test_disconnect_removes_empty_entries(manager):
    ws = AsyncMock()
    await manager.connect(ws, "user:alice", user_id="alice")
    manager.disconnect(ws, "user:alice", user_id="alice")
    assert manager.active_connections == {}
    assert manager.user_connections == {}


async def test_disconnect_keeps_other_sockets(manager):
    first, second = AsyncMock(), AsyncMock()
    await manager.connect(first, "user:alice", user_id="alice")
    await manager.connect(second, "user:alice", user_id="alice")
    manager.disconnect(first, "user:alice", user_id="alice")
    assert manager.active_connections["user:alice"] == [second]
    assert manager.user_connections["alice"] == [second]
    manager.disconnect(second, "user:alice", user_id="alice")
