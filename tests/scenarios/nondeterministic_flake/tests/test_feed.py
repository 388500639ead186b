import asyncio
import json

from websockets.asyncio.client import connect


async def recv_until(ws, kind: str, timeout: float = 2.0) -> dict:
    """Skip unsolicited messages (heartbeats) until one of type `kind` arrives."""
    async with asyncio.timeout(timeout):
        while True:
            msg = json.loads(await ws.recv())
            if msg["type"] == kind:
                return msg


async def test_ping_gets_pong(feed, heartbeat_timing):
    async with connect(feed.url, open_timeout=2) as ws:
        await ws.send(json.dumps({"type": "ping", "id": 1}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 2))
    assert reply["type"] == "pong"
    assert reply["id"] == 1


async def test_pong_arrives_despite_heartbeats(feed):
    async with connect(feed.url, open_timeout=2) as ws:
        await ws.send(json.dumps({"type": "ping", "id": 2}))
        assert await recv_until(ws, "pong") == {"type": "pong", "id": 2}


async def test_subscribe_is_acknowledged(feed):
    async with connect(feed.url, open_timeout=2) as ws:
        await ws.send(json.dumps({"type": "subscribe", "symbols": ["aapl", "msft"]}))
        assert (await recv_until(ws, "subscribed"))["symbols"] == ["AAPL", "MSFT"]
        assert list(feed.subscriptions.values()) == [{"AAPL", "MSFT"}]


async def test_idle_connection_gets_heartbeats(feed):
    feed.heartbeat_interval = 0.05
    async with connect(feed.url, open_timeout=2) as ws:
        first = await recv_until(ws, "heartbeat")
        second = await recv_until(ws, "heartbeat")
    assert second["ts"] > first["ts"]


async def test_unknown_message_type(feed):
    async with connect(feed.url, open_timeout=2) as ws:
        await ws.send(json.dumps({"type": "unsubscribe_all"}))
        assert (await recv_until(ws, "error"))["reason"] == "unknown type 'unsubscribe_all'"
