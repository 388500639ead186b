from unittest.mock import Mock, patch

from app import broker


def test_notify_user_publishes_once():
    broker.client = Mock()  # direct assignment: the LocalBroker never comes back
    broker.notify_user("alice", "hi")
    broker.client.publish.assert_called_once_with("user:alice", '{"type": "notification", "text": "hi"}')


def test_notify_user_channel_name():
    # The same check done right: patch.object puts the real client back.
    with patch.object(broker, "client") as fake:
        broker.notify_user("bob", "hello")
    assert fake.publish.call_args.args[0] == "user:bob"
