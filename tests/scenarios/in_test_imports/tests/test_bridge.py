import asyncio


def test_run_sync_returns_the_result():
    from app import bridge

    assert bridge.run_sync(asyncio.sleep(0, result="done")) == "done"


def test_shutdown_closes_the_loop():
    from app import bridge

    bridge.run_sync(asyncio.sleep(0))
    bridge.shutdown()
    assert bridge._loop.is_closed()
