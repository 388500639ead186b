import time


def test_silent_client_is_reaped():
    from app import presence

    now = time.time()
    assert presence.reap({"alice": now - 60, "bob": now - 1}) == ["alice"]
