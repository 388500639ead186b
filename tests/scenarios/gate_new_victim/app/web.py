"""The WebSocket endpoint: validates, rate-limits and acknowledges each message."""

from __future__ import annotations

import time

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from app.messages import InvalidMessage, validate
from app.ratelimit import RateLimiter


async def chat(websocket: WebSocket) -> None:
    limiter = RateLimiter()
    user = websocket.query_params.get("user", "anonymous")
    await websocket.accept()
    while True:
        try:
            raw = await websocket.receive_json()
        except WebSocketDisconnect:
            return
        if not limiter.allow(user, int(time.time() // 60)):
            await websocket.send_json({"type": "error", "reason": "rate limited"})
            continue
        try:
            await websocket.send_json({"type": "ack", "message": validate(raw)})
        except InvalidMessage as error:
            await websocket.send_json({"type": "error", "reason": str(error)})


def create_app() -> Starlette:
    return Starlette(routes=[WebSocketRoute("/ws", chat)])
