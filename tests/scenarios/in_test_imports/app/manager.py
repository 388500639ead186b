"""The gateway's connection registry: one per process, shared by every endpoint."""

from __future__ import annotations

from typing import Any


class ConnectionManager:
    def __init__(self) -> None:
        self.active_connections: dict[str, list[Any]] = {}

    async def connect(self, websocket: Any, room: str) -> None:
        await websocket.accept()
        self.active_connections.setdefault(room, []).append(websocket)

    def disconnect(self, websocket: Any, room: str) -> None:
        sockets = self.active_connections.get(room, [])
        if websocket in sockets:
            sockets.remove(websocket)
        if not sockets:
            self.active_connections.pop(room, None)

    async def broadcast(self, room: str, message: dict[str, Any]) -> int:
        sockets = list(self.active_connections.get(room, []))
        for websocket in sockets:
            await websocket.send_json(message)
        return len(sockets)

    def count(self) -> int:
        return sum(len(sockets) for sockets in self.active_connections.values())


manager = ConnectionManager()
