"""Validation of chat messages."""

from __future__ import annotations

MAX_LENGTH = 2000


class InvalidMessage(ValueError):
    pass


def validate(message: dict[str, object]) -> dict[str, object]:
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidMessage("text is required")
    if len(text) > MAX_LENGTH:
        raise InvalidMessage("text is too long")
    return {"type": "message", "text": text.strip(), "room": message.get("room", "lobby")}
