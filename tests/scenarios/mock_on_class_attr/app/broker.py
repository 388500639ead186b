"""Pub/sub for notifications. `client` is the process's broker connection: an in-process broker
until configure() installs a Redis client."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, Callable


class LocalBroker:
    def __init__(self) -> None:
        self.subscribers: dict[str, list[Callable[[str], None]]] = defaultdict(list)

    def subscribe(self, channel: str, callback: Callable[[str], None]) -> None:
        self.subscribers[channel].append(callback)

    def unsubscribe(self, channel: str, callback: Callable[[str], None]) -> None:
        self.subscribers[channel].remove(callback)

    def publish(self, channel: str, payload: str) -> int:
        callbacks = list(self.subscribers.get(channel, []))
        for callback in callbacks:
            callback(payload)
        return len(callbacks)


client: Any = LocalBroker()


def publish(channel: str, message: dict[str, Any]) -> int:
    return client.publish(channel, json.dumps(message))


def subscribe(channel: str, callback: Callable[[str], None]) -> None:
    client.subscribe(channel, callback)


def unsubscribe(channel: str, callback: Callable[[str], None]) -> None:
    client.unsubscribe(channel, callback)


def notify_user(user: str, text: str) -> int:
    return publish(f"user:{user}", {"type": "notification", "text": text})
