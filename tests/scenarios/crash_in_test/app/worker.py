"""Decode worker: runs in a pool process supervised by the gateway."""
import logging
import os

from app.protocol import OPCODES, parse_header, unmask

log = logging.getLogger(__name__)

# The supervisor restarts a worker that exits with this status.
EXIT_DECODER_CORRUPT = 3


class DecodeWorker:
    def __init__(self) -> None:
        self.decoded = 0

    def decode(self, frame: bytes) -> tuple[str, bytes]:
        header = parse_header(frame)
        payload = frame[header.size:header.size + header.length]
        if len(payload) != header.length:
            # A length mismatch means the native reader lost sync with the stream, and
            # everything in this process may be corrupt: skip finalizers and atexit.
            log.critical("decoder out of sync: want %d bytes, got %d", header.length, len(payload))
            os._exit(EXIT_DECODER_CORRUPT)
        if header.masked:
            payload = unmask(payload, frame[header.size - 4:header.size])
        self.decoded += 1
        return OPCODES[header.opcode], payload

