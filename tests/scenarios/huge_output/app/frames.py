"""WebSocket frame headers (RFC 6455, section 5.2) and a hex dump for debugging."""

from __future__ import annotations

from collections.abc import Iterator


class TruncatedFrame(ValueError):
    pass


def payload_length(frame: bytes) -> int:
    if len(frame) < 2:
        raise TruncatedFrame("need at least 2 bytes")
    length = frame[1] & 0x7F
    if length == 126:
        if len(frame) < 4:
            raise TruncatedFrame("need 4 bytes for a 16-bit length")
        return int.from_bytes(frame[2:4], "big")
    if length == 127:
        if len(frame) < 10:
            raise TruncatedFrame("need 10 bytes for a 64-bit length")
        return int.from_bytes(frame[2:10], "big")
    return length


def hexdump(data: bytes, offset: int = 0) -> Iterator[str]:
    for start in range(0, len(data), 16):
        chunk = data[start:start + 16]
        hex_part = " ".join(f"{byte:02x}" for byte in chunk)
        text = "".join(chr(byte) if 32 <= byte < 127 else "." for byte in chunk)
        yield f"{offset + start:08x}  {hex_part:<47}  |{text}|"
