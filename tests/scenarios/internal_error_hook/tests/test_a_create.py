import pytest

from app.rooms import RoomRegistry


def test_create_room():
    registry = RoomRegistry()
    registry.create("lobby")
    assert registry.rooms == {"lobby": set()}


def test_create_twice_is_an_error():
    registry = RoomRegistry()
    registry.create("lobby")
    with pytest.raises(ValueError):
        registry.create("lobby")


def test_join_room():
    registry = RoomRegistry()
    registry.create("lobby")
    registry.join("lobby", "alice")
    assert registry.rooms["lobby"] == {"alice"}
