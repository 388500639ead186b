from app import broker


def test_publish_reaches_the_subscriber():
    received = []
    broker.subscribe("room:lobby", received.append)
    try:
        assert broker.publish("room:lobby", {"type": "join", "user": "carol"}) == 1
        assert received == ['{"type": "join", "user": "carol"}']
    finally:
        broker.unsubscribe("room:lobby", received.append)


def test_publish_without_subscribers_reaches_nobody():
    assert broker.publish("room:empty", {"type": "ping"}) == 0
