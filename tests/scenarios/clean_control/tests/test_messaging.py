import logging
from unittest.mock import AsyncMock

import pytest


@pytest.fixture
async def alice(manager):
    ws = AsyncMock()
    await manager.connect(ws, "user:alice", user_id="alice")
    yield ws
    manager.disconnect(ws, "user:alice", user_id="alice")


async def test_broadcast_reaches_subscriber(manager, alice):
    delivered = await manager.broadcast("user:alice", {"type": "notification", "text": "hi"})
    assert delivered == 1
    alice.send_json.assert_awaited_once_with({"type": "notification", "text": "hi"})


async def test_broadcast_is_channel_scoped(manager, alice):
    bob = AsyncMock()
    await manager.connect(bob, "user:bob", user_id="bob")
    delivered = await manager.broadcast("user:bob", {"type": "notification"})
    assert delivered == 1
    alice.send_json.assert_not_awaited()
    manager.disconnect(bob, "user:bob", user_id="bob")


async def test_personal_message(manager, alice):
    delivered = await manager.send_personal_message("alice", {"type": "dm", "text": "psst"})
    assert delivered == 1
    alice.send_json.assert_awaited_once_with({"type": "dm", "text": "psst"})


async def test_broadcast_survives_send_error(manager, alice, caplog):
    broken = AsyncMock()
    broken.send_json.side_effect = ConnectionResetError("client went away")
    await manager.connect(broken, "user:alice")
    with caplog.at_level(logging.WARNING, logger="app.ws"):
        delivered = await manager.broadcast("user:alice", {"type": "ping"})
    assert delivered == 1
    alice.send_json.assert_awaited_once_with({"type": "ping"})
    assert len(caplog.records) == 1
    manager.disconnect(broken, "user:alice")
