import asyncio
import json
from unittest.mock import AsyncMock, Mock

import fakeredis.aioredis
import pytest

from app.redis_pubsub import RedisPubSubBridge

TICK = {"stock_code": "005930", "price": 71200.0, "change": 300.0}


@pytest.fixture
def ws_manager():
    return AsyncMock()


@pytest.fixture
async def fake_redis():
    client = fakeredis.aioredis.FakeRedis()
    yield client
    await client.aclose()


async def test_subscribe_to_channel(ws_manager):
    mock_redis = AsyncMock()
    bridge = RedisPubSubBridge(mock_redis, ws_manager)

    await bridge.subscribe("price:005930")

    mock_redis.pubsub.return_value.subscribe.assert_awaited_once_with("price:005930")


async def test_subscribe_creates_redis_channel(ws_manager):
    mock_redis = Mock()
    mock_redis.pubsub.return_value = Mock()
    bridge = RedisPubSubBridge(mock_redis, ws_manager)

    await bridge.subscribe("price:005930")

    mock_redis.pubsub.assert_called_once()


async def test_redis_message_forwarded_to_websocket(ws_manager):
    pubsub = Mock()
    pubsub.subscribe = AsyncMock()
    pubsub.listen = AsyncMock(return_value=[
        {"type": "message", "channel": b"price:005930", "data": json.dumps(TICK)},
    ])
    bridge = RedisPubSubBridge(Mock(pubsub=Mock(return_value=pubsub)), ws_manager)
    await bridge.subscribe("price:005930")

    await bridge.listen()

    ws_manager.send_json.assert_awaited_once_with("price:005930", TICK)


async def test_multiple_subscribers_receive_message(ws_manager):
    bridge = RedisPubSubBridge(Mock(), ws_manager)

    await bridge.handle_message(
        {"type": "message", "channel": b"price:005930", "data": json.dumps(TICK)}
    )

    assert ws_manager.send_json.called_once()


async def test_price_update_flow(fake_redis, ws_manager):
    delivered = asyncio.Event()
    ws_manager.send_json.side_effect = lambda *args: delivered.set()
    bridge = RedisPubSubBridge(fake_redis, ws_manager)
    await bridge.subscribe("price:005930")
    bridge.start()
    try:
        receivers = await fake_redis.publish("price:005930", json.dumps(TICK))
        await asyncio.wait_for(delivered.wait(), timeout=1)
    finally:
        await bridge.close()

    assert receivers == 1
    ws_manager.send_json.assert_awaited_once_with("price:005930", TICK)


async def test_connect_and_disconnect(fake_redis, ws_manager):
    bridge = RedisPubSubBridge(fake_redis, ws_manager)
    await bridge.subscribe("price:005930")
    assert await fake_redis.pubsub_numsub("price:005930") == [(b"price:005930", 1)]

    await bridge.close()

    assert await fake_redis.pubsub_numsub("price:005930") == [(b"price:005930", 0)]
