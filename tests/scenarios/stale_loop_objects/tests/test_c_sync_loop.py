import asyncio
import time

from app.hub import hub


def run_until(loop, predicate, timeout=1.0):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        loop.run_until_complete(asyncio.sleep(0.005))


def test_publish_nowait_from_sync_code():
    received = []
    hub.subscribe("alerts", received.append)
    loop = asyncio.new_event_loop()
    try:
        hub.publish_nowait("alerts", {"level": "warning"}, loop=loop)
        run_until(loop, lambda: received)
    finally:
        loop.close()

    assert received == [{"level": "warning"}]
