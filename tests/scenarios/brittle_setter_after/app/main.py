"""The app factory: registers the frame formats, mounts the WebSocket endpoint."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from app import serializers


async def ping_pong(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:
        try:
            frame = await websocket.receive_text()
        except WebSocketDisconnect:
            return
        message = serializers.decode("json", frame)
        reply = {"op": "pong", "seq": message.get("seq")} if message.get("op") == "ping" else {"op": "error"}
        await websocket.send_text(serializers.encode("json", reply))


def create_app() -> Starlette:
    serializers.install_defaults()
    return Starlette(routes=[WebSocketRoute("/ws", ping_pong)])
