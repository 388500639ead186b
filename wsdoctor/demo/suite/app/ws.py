"""Channel-based WebSocket fan-out used by the API's /ws endpoint."""
import logging
from typing import Any

log = logging.getLogger(__name__)


class ConnectionManager:
    def __init__(self) -> None:
        self.active_connections: dict[str, list[Any]] = {}
        self.user_connections: dict[str, list[Any]] = {}

    async def connect(self, websocket: Any, channel: str, user_id: str | None = None) -> None:
        await websocket.accept()
        self.active_connections.setdefault(channel, []).append(websocket)
        if user_id is not None:
            self.user_connections.setdefault(user_id, []).append(websocket)

    def disconnect(self, websocket: Any, channel: str, user_id: str | None = None) -> None:
        sockets = self.active_connections.get(channel, [])
        if websocket in sockets:
            sockets.remove(websocket)
        if not sockets:
            self.active_connections.pop(channel, None)
        if user_id is not None:
            user_sockets = self.user_connections.get(user_id, [])
            if websocket in user_sockets:
                user_sockets.remove(websocket)
            if not user_sockets:
                self.user_connections.pop(user_id, None)

    async def broadcast(self, channel: str, message: dict) -> int:
        delivered = 0
        for websocket in list(self.active_connections.get(channel, [])):
            try:
                await websocket.send_json(message)
                delivered += 1
            except Exception:
                # One dead client must not stop delivery to the others.
                log.warning("send to %r on %s failed", websocket, channel, exc_info=True)
        return delivered

    async def send_personal_message(self, user_id: str, message: dict) -> int:
        delivered = 0
        for websocket in list(self.user_connections.get(user_id, [])):
            try:
                await websocket.send_json(message)
                delivered += 1
            except Exception:
                log.warning("send to user %s failed", user_id, exc_info=True)
        return delivered

    def get_stats(self) -> dict[str, int]:
        return {
            "channels": len(self.active_connections),
            "total_connections": sum(len(s) for s in self.active_connections.values()),
            "users": len(self.user_connections),
        }


manager = ConnectionManager()
