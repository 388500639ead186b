def test_fast_heartbeats_for_the_load_test():
    from app.protocol import Heartbeat

    Heartbeat.interval = 0.05  # speeds the load test up; never put back
    assert Heartbeat.deadline() == 10.05


def test_hello_announces_the_heartbeat_interval():
    from app.protocol import hello_message

    assert hello_message("s-1") == {"op": "hello", "session": "s-1", "heartbeat_interval": 30.0}
