from app.hub import hub


async def test_stop_cancels_flusher():
    hub.start()
    assert hub.running

    await hub.stop()

    assert not hub.running
