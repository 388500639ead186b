from app import pool


def test_reconnect_marks_connection_closed():
    connection = {"open": True}
    pool.add(connection)  # never removed from the module-level pool
    connection["open"] = False
    assert connection["open"] is False


def test_pool_starts_with_what_we_add():
    assert all(isinstance(c, dict) for c in pool.POOL)
