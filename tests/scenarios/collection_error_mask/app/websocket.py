"""Connection bookkeeping for the price-streaming WebSocket endpoint."""
from collections import defaultdict
from typing import Any


class ConnectionManager:
    def __init__(self, pubsub=None) -> None:
        self.active_connections: dict[str, Any] = {}
        self.subscriptions: dict[str, set[str]] = defaultdict(set)
        self._pubsub = pubsub

    async def connect(self, websocket, connection_id: str) -> None:
        await websocket.accept()
        self.active_connections[connection_id] = websocket

    async def disconnect(self, connection_id: str) -> None:
        self.active_connections.pop(connection_id, None)
        for subscribers in self.subscriptions.values():
            subscribers.discard(connection_id)

    async def subscribe(self, connection_id: str, channel: str) -> None:
        # Became async when the Redis fan-out was added: the first local
        # subscriber of a channel opens the Redis subscription.
        first = not self.subscriptions[channel]
        self.subscriptions[channel].add(connection_id)
        if first and self._pubsub is not None:
            await self._pubsub.subscribe(channel)

    def unsubscribe(self, connection_id: str, channel: str) -> None:
        self.subscriptions[channel].discard(connection_id)

    def get_subscribers(self, channel: str) -> set[str]:
        return set(self.subscriptions.get(channel, ()))

    def get_stats(self) -> dict[str, int]:
        return {
            "active_connections": len(self.active_connections),
            "channels": sum(1 for s in self.subscriptions.values() if s),
        }

    async def send_message(self, connection_id: str, message: dict) -> bool:
        websocket = self.active_connections.get(connection_id)
        if websocket is None:
            return False
        await websocket.send_json(message)
        return True
