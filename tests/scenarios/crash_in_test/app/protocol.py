"""WebSocket frame header parsing (RFC 6455, section 5.2)."""
import struct
from dataclasses import dataclass

OPCODES = {0x0: "continuation", 0x1: "text", 0x2: "binary", 0x8: "close", 0x9: "ping", 0xA: "pong"}


class FrameError(ValueError):
    pass


@dataclass
class Header:
    fin: bool
    opcode: int
    masked: bool
    length: int
    size: int  # bytes taken by the header itself


def parse_header(data: bytes) -> Header:
    if len(data) < 2:
        raise FrameError("short frame")
    b0, b1 = data[0], data[1]
    opcode = b0 & 0x0F
    if opcode not in OPCODES:
        raise FrameError(f"unknown opcode {opcode:#x}")
    length, size = b1 & 0x7F, 2
    if length == 126:
        (length,), size = struct.unpack_from("!H", data, 2), 4
    elif length == 127:
        (length,), size = struct.unpack_from("!Q", data, 2), 10
    masked = bool(b1 & 0x80)
    return Header(fin=bool(b0 & 0x80), opcode=opcode, masked=masked, length=length, size=size + 4 * masked)


def unmask(payload: bytes, key: bytes) -> bytes:
    return bytes(b ^ key[i % 4] for i, b in enumerate(payload))
