"""Socket.IO packets: a type digit, an optional namespace and ack id, then JSON data."""

from __future__ import annotations

import json as _json
from typing import Any

CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK = range(7)
PACKET_NAMES = ["CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"]


class Packet:
    # The JSON module used to encode data; servers may swap it for a faster or custom one.
    json: Any = _json

    def __init__(self, packet_type: int = EVENT, data: Any = None, namespace: str | None = None,
                 id: int | None = None) -> None:
        self.packet_type = packet_type
        self.data = data
        self.namespace = namespace
        self.id = id

    def encode(self) -> str:
        encoded = str(self.packet_type)
        if self.namespace and self.namespace != "/":
            encoded += self.namespace + ","
        if self.id is not None:
            encoded += str(self.id)
        if self.data is not None:
            encoded += self.json.dumps(self.data, separators=(",", ":"))
        return encoded

    @classmethod
    def decode(cls, encoded: str) -> Packet:
        packet_type = int(encoded[0])
        rest = encoded[1:]
        namespace = None
        if rest.startswith("/"):
            namespace, _, rest = rest.partition(",")
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        data = _json.loads(rest) if rest else None
        return cls(packet_type, data=data, namespace=namespace, id=int(digits) if digits else None)
