from app import presence


def test_reset_clears_everyone():
    presence.go_online("zed")
    presence.reset()
    assert presence.ONLINE == set()


def test_reset_twice():
    presence.reset()
    presence.reset()
    assert presence.stats() == {"online": 0}
