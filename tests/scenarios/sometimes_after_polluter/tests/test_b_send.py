from app import pool


def test_send_uses_an_open_connection():
    pool.add({"open": True})
    assert pool.acquire()["open"] is True
