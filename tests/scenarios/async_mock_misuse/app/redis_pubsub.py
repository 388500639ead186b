"""Bridges Redis pub/sub channels to the WebSocket connection manager.

`redis` is a redis.asyncio client: `pubsub()` is a plain method returning a
PubSub object, whose `subscribe()` is a coroutine and `listen()` an async
generator.
"""
import asyncio
import contextlib
import json
import logging

logger = logging.getLogger(__name__)


class RedisPubSubBridge:
    def __init__(self, redis, ws_manager) -> None:
        self._redis = redis
        self._ws_manager = ws_manager
        self._pubsub = None
        self._channels: set[str] = set()
        self._listener: asyncio.Task | None = None

    async def subscribe(self, channel: str) -> None:
        if self._pubsub is None:
            self._pubsub = self._redis.pubsub()
        await self._pubsub.subscribe(channel)
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        if self._pubsub is not None and channel in self._channels:
            await self._pubsub.unsubscribe(channel)
            self._channels.discard(channel)

    async def handle_message(self, message: dict) -> bool:
        if message.get("type") != "message":
            return False
        channel = message["channel"]
        if isinstance(channel, bytes):
            channel = channel.decode()
        if channel not in self._channels:
            return False
        await self._ws_manager.send_json(channel, json.loads(message["data"]))
        return True

    async def listen(self) -> None:
        async for message in self._pubsub.listen():
            try:
                await self.handle_message(message)
            except (ValueError, KeyError):
                logger.warning("dropping malformed pub/sub message: %r", message)

    def start(self) -> None:
        if self._listener is None:
            self._listener = asyncio.create_task(self.listen(), name="redis-pubsub-listener")

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._pubsub is not None:
            await self._pubsub.unsubscribe()
            await self._pubsub.aclose()
            self._pubsub = None
        self._channels.clear()
