from unittest.mock import AsyncMock

import app.ws


async def test_connection_stats():
    ws = AsyncMock()
    await app.ws.manager.connect(ws, "user:alice", user_id="alice")
    assert app.ws.manager.get_stats() == {"channels": 1, "total_connections": 1, "users": 1}
    app.ws.manager.disconnect(ws, "user:alice", user_id="alice")
    assert app.ws.manager.get_stats() == {"channels": 0, "total_connections": 0, "users": 0}
