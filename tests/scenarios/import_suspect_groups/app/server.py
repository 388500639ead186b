"""The WebSocket server: one JSON message in, one JSON message out."""

from __future__ import annotations

import json

from websockets.asyncio.server import Server, ServerConnection, serve

from app import builtin_handlers  # noqa: F401  (registers the built-in ops)
from app.registry import dispatch


async def answer(connection: ServerConnection) -> None:
    async for raw in connection:
        await connection.send(json.dumps(dispatch(json.loads(raw))))


async def start(host: str = "127.0.0.1", port: int = 0) -> Server:
    return await serve(answer, host, port)
