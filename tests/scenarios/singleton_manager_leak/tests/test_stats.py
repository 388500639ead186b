from unittest.mock import AsyncMock

from app.ws import manager


async def test_connection_stats():
    ws = AsyncMock()
    await manager.connect(ws, "user:alice", user_id="alice")
    stats = manager.get_stats()
    assert stats["total_connections"] == 1
    assert stats["channels"] == 1
    assert stats["users"] == 1
