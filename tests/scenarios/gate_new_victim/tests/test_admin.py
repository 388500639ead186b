from app import ratelimit


def test_admin_can_raise_the_limit():
    ratelimit.set_limit(600)  # for the event; never set back
    limiter = ratelimit.RateLimiter()
    assert all(limiter.allow("moderator", minute=0) for _ in range(600))


def test_limits_are_positive():
    assert all(value > 0 for value in ratelimit.LIMITS.values())
