from app import rooms


def test_lobby_accepts_a_new_member():
    assert rooms.join("lobby", "carol") is True
    rooms.leave("lobby", "carol")


def test_lobby_is_not_full():
    assert not rooms.is_full("lobby")
