async def test_online_count_counts_one_socket(websocket):
    from app.manager import manager

    await manager.connect(websocket, "support")
    assert manager.count() == 1
    manager.disconnect(websocket, "support")
