from app.rooms import RoomRegistry


def test_two_members():
    registry = RoomRegistry()
    registry.create("lobby")
    registry.join("lobby", "alice")
    registry.join("lobby", "bob")
    assert len(registry.rooms["lobby"]) == 2


def test_join_unknown_room_fails():
    registry = RoomRegistry()
    try:
        registry.join("nowhere", "carol")
    except KeyError:
        return
    raise AssertionError("joining an unknown room should fail")
