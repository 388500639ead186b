def test_heartbeat_frame_is_small():
    import json

    assert len(json.dumps({"op": "heartbeat"})) < 32
