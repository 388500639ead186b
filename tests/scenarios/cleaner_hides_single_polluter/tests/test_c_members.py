from app import rooms


def test_alice_joins_lobby():
    assert rooms.join("lobby", "alice") is True  # never leaves


def test_bob_joins_lobby():
    assert rooms.join("lobby", "bob") is True  # never leaves


def test_support_room_is_separate():
    assert rooms.join("support", "dave") is True
    rooms.leave("support", "dave")
    assert "dave" not in rooms.MEMBERS["support"]


def test_evict_everyone_from_lobby():
    rooms.evict_all("lobby")
    assert "lobby" not in rooms.MEMBERS
