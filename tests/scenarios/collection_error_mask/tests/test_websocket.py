from unittest.mock import AsyncMock

import pytest

from app.schemas.websocket import MessageType, PriceUpdate
from app.websocket import ConnectionManager


@pytest.fixture
def manager():
    return ConnectionManager()


@pytest.fixture
def websocket():
    return AsyncMock()


async def test_websocket_connect_and_disconnect(manager, websocket):
    await manager.connect(websocket, "conn-1")
    assert manager.get_stats()["active_connections"] == 1

    await manager.disconnect("conn-1")
    assert manager.get_stats()["active_connections"] == 0
    websocket.accept.assert_awaited_once()


async def test_multiple_subscriptions(manager, websocket):
    await manager.connect(websocket, "conn-1")
    await manager.subscribe("conn-1", "price:005930")
    await manager.subscribe("conn-1", "price:000660")

    assert manager.get_stats()["channels"] == 2


async def test_send_message_to_connection(manager, websocket):
    await manager.connect(websocket, "conn-1")

    sent = await manager.send_message("conn-1", {"type": "ping"})

    assert sent is True
    websocket.send_json.assert_awaited_once_with({"type": "ping"})


def test_price_update_serialization():
    update = PriceUpdate(stock_code="005930", price=71200.0, change=300.0, volume=1200)

    data = update.to_dict()

    assert data["type"] == MessageType.PRICE_UPDATE.value
    assert data["stock_code"] == "005930"


def test_subscribe_and_get_subscribers(manager):
    manager.subscribe("conn-1", "price:005930")

    assert manager.get_subscribers("price:005930") == {"conn-1"}


async def test_message_batching(manager, websocket):
    from app.schemas.websocket import PriceUpdateMessage

    await manager.connect(websocket, "conn-1")
    message = PriceUpdateMessage(data=PriceUpdate("005930", 71200.0, 300.0, 1200))

    assert await manager.send_message("conn-1", message.to_dict())


def test_price_update_field_names():
    update = PriceUpdate(code="005930", price=71200.0, change=300.0, volume=1200)

    assert update.stock_code == "005930"
