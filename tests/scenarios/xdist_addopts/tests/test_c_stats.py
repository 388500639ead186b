from app import presence


def test_nobody_online_at_start():
    assert presence.stats() == {"online": 0}


def test_stats_keys():
    assert set(presence.stats()) == {"online"}
