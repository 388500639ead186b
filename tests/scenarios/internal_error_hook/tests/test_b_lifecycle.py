from app.rooms import RoomRegistry


class TestRoomLifecycle:
    def test_close_returns_members(self):
        registry = RoomRegistry()
        registry.create("support")
        registry.join("support", "bob")
        assert registry.close("support") == {"bob"}

    def test_closed_room_is_gone(self):
        registry = RoomRegistry()
        registry.create("support")
        registry.close("support")
        assert "support" not in registry.rooms
