"""Market-data feed: clients subscribe to symbols; idle connections get heartbeats."""
import asyncio
import json
import random
import time

from websockets.exceptions import ConnectionClosed


def first_heartbeat_delay(interval: float) -> float:
    # Spread the heartbeats of clients that (re)connect together after a deploy.
    return random.uniform(0, interval)


class FeedServer:
    def __init__(self, heartbeat_interval: float = 15.0) -> None:
        self.heartbeat_interval = heartbeat_interval
        self.subscriptions: dict[object, set[str]] = {}

    async def _heartbeats(self, ws) -> None:
        delay = first_heartbeat_delay(self.heartbeat_interval)
        try:
            while True:
                await asyncio.sleep(delay)
                await ws.send(json.dumps({"type": "heartbeat", "ts": time.time()}))
                delay = self.heartbeat_interval
        except ConnectionClosed:
            pass

    async def handler(self, ws) -> None:
        self.subscriptions[ws] = set()
        beats = asyncio.create_task(self._heartbeats(ws))
        try:
            async for raw in ws:
                msg = json.loads(raw)
                kind = msg.get("type")
                if kind == "ping":
                    await ws.send(json.dumps({"type": "pong", "id": msg.get("id")}))
                elif kind == "subscribe":
                    symbols = {s.upper() for s in msg["symbols"]}
                    self.subscriptions[ws] |= symbols
                    await ws.send(json.dumps({"type": "subscribed", "symbols": sorted(symbols)}))
                else:
                    await ws.send(json.dumps({"type": "error", "reason": f"unknown type {kind!r}"}))
        finally:
            beats.cancel()
            del self.subscriptions[ws]
