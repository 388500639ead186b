"""Fan-out of trace/debug events to WebSocket clients, grouped by stream."""
import json
import logging
from datetime import datetime, timezone
from typing import Any

from starlette.websockets import WebSocket

logger = logging.getLogger(__name__)


class WebSocketConnectionManager:
    def __init__(self) -> None:
        self.active_connections: dict[str, set[WebSocket]] = {}
        self.connection_info: dict[WebSocket, dict[str, Any]] = {}

    async def connect(self, websocket: WebSocket, stream_id: str) -> None:
        await websocket.accept()
        self.active_connections.setdefault(stream_id, set()).add(websocket)
        self.connection_info[websocket] = {
            "stream_id": stream_id,
            "connected_at": datetime.now(timezone.utc).isoformat(),
        }
        # Clients wait for this greeting before they start sending.
        await websocket.send_text(json.dumps({
            "type": "connected",
            "stream_id": stream_id,
            "timestamp": self.connection_info[websocket]["connected_at"],
        }))

    def disconnect(self, websocket: WebSocket) -> None:
        info = self.connection_info.pop(websocket, None)
        if info is None:
            return
        stream = self.active_connections.get(info["stream_id"], set())
        stream.discard(websocket)
        if not stream:
            self.active_connections.pop(info["stream_id"], None)

    async def send_personal(self, websocket: WebSocket, message: dict[str, Any]) -> bool:
        if websocket not in self.connection_info:
            return False
        try:
            await websocket.send_text(json.dumps(message))
            return True
        except Exception:
            logger.exception("send_personal failed")
            self.disconnect(websocket)
            return False

    async def broadcast_to_stream(self, stream_id: str, message: dict[str, Any]) -> int:
        payload = json.dumps(message)
        delivered = 0
        for websocket in list(self.active_connections.get(stream_id, ())):
            try:
                await websocket.send_text(payload)
                delivered += 1
            except Exception:
                logger.warning("dropping dead connection on stream %s", stream_id)
                self.disconnect(websocket)
        return delivered

    def get_connection_count(self, stream_id: str) -> int:
        return len(self.active_connections.get(stream_id, ()))
