"""The server: emits events as packets."""

from __future__ import annotations

from typing import Any

from app import packet


class Server:
    def __init__(self, json: Any = None) -> None:
        if json is not None:
            # Like python-socketio: a custom JSON module is installed on the Packet class.
            packet.Packet.json = json
        self.sent: list[str] = []

    def emit(self, event: str, data: Any) -> str:
        frame = packet.Packet(packet.EVENT, data=[event, data]).encode()
        self.sent.append(frame)
        return frame
