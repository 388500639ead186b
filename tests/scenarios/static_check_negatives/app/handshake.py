"""Protocol negotiation: compression only from protocol version 2."""

from __future__ import annotations


def handshake(client_version: int) -> dict[str, object]:
    if client_version < 1:
        return {"ok": False, "error": "unsupported version"}
    return {"ok": True, "version": client_version,
            "compression": "deflate" if client_version >= 2 else None}
