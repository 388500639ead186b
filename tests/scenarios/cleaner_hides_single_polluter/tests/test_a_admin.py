from app import rooms


def test_capacity_of_the_lobby():
    assert rooms.CAPACITY["lobby"] == 2


def test_unlock_all_rooms():
    rooms.lock("archive")
    rooms.unlock_all()
    assert rooms.LOCKED == set()
