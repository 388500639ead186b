def test_label_online():
    assert "Online".lower() == "online"


def test_label_away():
    assert "Away".upper() == "AWAY"
