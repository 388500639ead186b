"""Frame encoding: orjson when it is installed, the standard library otherwise."""

from __future__ import annotations

import json
from typing import Any


def _fast_json() -> Any:
    try:
        import orjson
    except ImportError:
        return None
    return orjson


def encode(message: dict[str, Any]) -> bytes:
    fast = _fast_json()
    if fast is not None:
        return fast.dumps(message)
    return json.dumps(message, separators=(",", ":")).encode()


def decode(frame: bytes) -> dict[str, Any]:
    return json.loads(frame)
