from app.moderation import verdict


def test_low_score_is_allowed():
    assert verdict(0.1) == "allow"


def test_high_score_is_blocked():
    assert verdict(0.9) == "block"
