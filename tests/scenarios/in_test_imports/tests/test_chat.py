async def test_join_room_accepts_socket(websocket):
    from app.manager import manager

    await manager.connect(websocket, "lobby")
    websocket.accept.assert_awaited_once()


async def test_broadcast_reaches_room(websocket):
    from app.manager import manager

    await manager.connect(websocket, "announcements")
    delivered = await manager.broadcast("announcements", {"type": "notice", "text": "deploy at 5"})
    manager.disconnect(websocket, "announcements")
    assert delivered == 1
    websocket.send_json.assert_awaited_once_with({"type": "notice", "text": "deploy at 5"})
