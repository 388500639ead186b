from app.ratelimit import RateLimiter


def test_61st_message_in_a_minute_is_rejected():
    limiter = RateLimiter()
    allowed = [limiter.allow("alice", minute=0) for _ in range(61)]
    assert allowed[:60] == [True] * 60
    assert allowed[60] is False


def test_new_minute_resets_the_count():
    limiter = RateLimiter()
    for _ in range(5):
        limiter.allow("bob", minute=0)
    assert limiter.allow("bob", minute=1) is True
