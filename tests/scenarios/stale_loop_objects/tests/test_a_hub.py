from app.hub import hub


async def test_start_and_publish():
    received = []
    hub.subscribe("prices:005930", received.append)
    hub.start()

    await hub.publish("prices:005930", {"price": 71200})
    await hub.drain()

    assert received == [{"price": 71200}]
    assert hub.running
