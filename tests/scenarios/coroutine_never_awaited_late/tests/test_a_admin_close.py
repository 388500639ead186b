from app.connections import registry


def test_close_from_sync_code_is_deferred():
    # Sync admin path: no running loop, so the close coroutine is parked, and this test
    # never flushes it. The coroutine is never awaited, but nothing frees it yet.
    connection = registry.open("alice")
    connection.schedule_close()
    assert connection.state == "open"
    assert len(connection._deferred) == 1


async def test_close_on_the_loop():
    connection = registry.open("bob")
    connection.schedule_close()
    await connection.flush()
    for _ in range(3):
        await __import__("asyncio").sleep(0)
    assert connection.state == "closed"
