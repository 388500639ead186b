"""Acknowledgements: the reply to an event that carried an ack id."""

from __future__ import annotations

from typing import Any

from app.packet import ACK, Packet


def ack(ack_id: int, *args: Any, namespace: str | None = None) -> str:
    return Packet(ACK, data=list(args) if args else None, namespace=namespace, id=ack_id).encode()
