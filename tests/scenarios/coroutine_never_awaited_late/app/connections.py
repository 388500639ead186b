"""Connections and the process-wide registry that holds them."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class Connection:
    def __init__(self, user: str, registry: ConnectionRegistry) -> None:
        self.user = user
        self.registry = registry
        self.state = "open"
        self._deferred: list[Coroutine[Any, Any, None]] = []

    async def close(self, code: int = 1000) -> None:
        await asyncio.sleep(0)
        self.state = "closed"
        self.registry.forget(self)

    def schedule_close(self, code: int = 1000) -> None:
        """Close soon: now on the running loop, or when flush() runs on one."""
        coro = self.close(code)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._deferred.append(coro)  # the coroutine holds `self`: a reference cycle
            return
        loop.create_task(coro)

    async def flush(self) -> None:
        deferred, self._deferred = self._deferred, []
        for coro in deferred:
            await coro


class ConnectionRegistry:
    def __init__(self) -> None:
        self.connections: list[Connection] = []

    def open(self, user: str) -> Connection:
        connection = Connection(user, self)
        self.connections.append(connection)
        return connection

    def forget(self, connection: Connection) -> None:
        if connection in self.connections:
            self.connections.remove(connection)

    def users(self) -> list[str]:
        return [c.user for c in self.connections]

    def reset(self) -> None:
        self.connections.clear()


registry = ConnectionRegistry()
