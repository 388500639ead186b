"""Client-to-server text frames (short payloads only)."""

from app.native import mask

TEXT = 0x81
MASKED = 0x80


def encode_text(text: str, key: bytes) -> bytes:
    payload = text.encode()
    if len(payload) > 125:
        raise ValueError("payload too long for a short frame")
    return bytes([TEXT, MASKED | len(payload)]) + key + mask(payload, key)
