def test_cli_reads_gateway_status():
    from app import bridge

    assert bridge.run_sync(bridge.gateway_status()) == {"status": "ok", "rooms": 0}
