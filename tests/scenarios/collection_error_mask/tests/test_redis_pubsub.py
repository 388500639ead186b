import asyncio
import json

import fakeredis.aioredis
import pytest

from app.schemas.websocket import PriceUpdate
from app.services.price_publisher import PricePublisher, channel_for


@pytest.fixture
async def redis():
    client = fakeredis.aioredis.FakeRedis()
    yield client
    await client.aclose()


async def next_message(pubsub, timeout=1.0):
    async def poll():
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.05)
            if message is not None:
                return message

    return await asyncio.wait_for(poll(), timeout)


def test_channel_naming():
    assert channel_for("005930") == "price:005930"


async def test_publish_without_subscribers(redis):
    publisher = PricePublisher(redis)

    receivers = await publisher.publish(PriceUpdate("005930", 71200.0, 300.0, 1200))

    assert receivers == 0


async def test_published_update_reaches_subscriber(redis):
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel_for("005930"))

    await PricePublisher(redis).publish(PriceUpdate("005930", 71200.0, 300.0, 1200))

    message = await next_message(pubsub)
    assert json.loads(message["data"])["price"] == 71200.0
    await pubsub.aclose()


async def test_publish_many_counts_receivers(redis):
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel_for("005930"), channel_for("000660"))

    receivers = await PricePublisher(redis).publish_many([
        PriceUpdate("005930", 71200.0, 300.0, 1200),
        PriceUpdate("000660", 132000.0, -500.0, 800),
    ])

    assert receivers == 2
    await pubsub.aclose()
