"""Packets: a type digit, then JSON data, encoded with a swappable JSON module."""

from __future__ import annotations

import json as _json
from typing import Any

EVENT = 2


class Packet:
    json: Any = _json  # Server(json=...) swaps it for the whole process

    def __init__(self, packet_type: int = EVENT, data: Any = None) -> None:
        self.packet_type = packet_type
        self.data = data

    def encode(self) -> str:
        encoded = str(self.packet_type)
        if self.data is not None:
            encoded += self.json.dumps(self.data, separators=(",", ":"))
        return encoded
