"""An asyncio server core: sessions and the handshake, transport-agnostic."""

from __future__ import annotations

import asyncio
import itertools

from app import packet

_ids = itertools.count(1)


class AsyncServer:
    def __init__(self, ping_interval: float = 25.0, ping_timeout: float = 20.0) -> None:
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.sessions: dict[str, str] = {}

    async def handshake(self, sid_prefix: str = "s") -> str:
        await asyncio.sleep(0)
        sid = f"{sid_prefix}{next(_ids)}"
        self.sessions[sid] = "/"
        return sid

    async def disconnect(self, sid: str) -> str:
        self.sessions.pop(sid, None)
        return packet.Packet(packet.DISCONNECT).encode()
