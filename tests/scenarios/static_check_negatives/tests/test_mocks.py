from unittest.mock import Mock

from app.feed import PriceFeed


def _feed_with_subscriber():
    feed, subscriber = PriceFeed(), Mock()
    feed.subscribers.append(subscriber)
    feed.publish("ACME", 12.5)
    return feed, subscriber


# NEGATIVE (called-once-assertion): the real assertion method.
def test_subscriber_gets_the_price_event():
    _, subscriber = _feed_with_subscriber()
    subscriber.send_json.assert_called_once_with({"type": "price", "symbol": "ACME", "price": 12.5})


# NEGATIVE (called-once-assertion): an exact count.
def test_subscriber_called_exactly_once():
    _, subscriber = _feed_with_subscriber()
    assert subscriber.send_json.call_count == 1


# POSITIVE twin (called-once-assertion): `called_once_with` is not an assertion; the Mock
# invents it and returns a truthy Mock (Python <= 3.11); 3.12+ raises AttributeError.
def test_subscriber_gets_the_price_event_unchecked():
    _, subscriber = _feed_with_subscriber()
    assert subscriber.send_json.called_once_with({"type": "price", "symbol": "WRONG", "price": 0})


# NEGATIVE (len-ge-zero): a real lower bound.
def test_history_records_the_event():
    feed, _ = _feed_with_subscriber()
    assert len(feed.history) >= 1


# POSITIVE twin (len-ge-zero): a length is never negative.
def test_history_is_kept():
    feed, _ = _feed_with_subscriber()
    assert len(feed.history) >= 0


# NEGATIVE (assert-true): compares against True; it can fail.
def test_handshake_accepts_version_one():
    from app.handshake import handshake

    assert handshake(1)["ok"] is True


# POSITIVE twin (assert-true).
def test_handshake_does_not_crash():
    from app.handshake import handshake

    handshake(1)
    assert True
