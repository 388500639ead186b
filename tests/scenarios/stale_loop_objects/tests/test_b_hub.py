from app.hub import hub


async def test_publish_after_restart():
    received = []
    hub.subscribe("prices:000660", received.append)
    hub.start()

    await hub.publish("prices:000660", {"price": 132000})
    await hub.publish("prices:000660", {"price": 132500})
    await hub.drain()

    assert received == [{"price": 132000}, {"price": 132500}]
