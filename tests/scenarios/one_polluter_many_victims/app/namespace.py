"""Namespaces turn emits into encoded packets for the transport."""

from __future__ import annotations

from typing import Any

from app.packet import EVENT, Packet


class Namespace:
    def __init__(self, name: str = "/") -> None:
        self.name = name
        self.outbox: list[str] = []

    def emit(self, event: str, *args: Any) -> str:
        frame = Packet(EVENT, data=[event, *args], namespace=self.name).encode()
        self.outbox.append(frame)
        return frame
