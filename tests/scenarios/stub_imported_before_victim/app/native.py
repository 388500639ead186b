"""Frame masking (RFC 6455 section 5.3); a compiled build replaces this module where it can."""


def mask(payload: bytes, key: bytes) -> bytes:
    return bytes(byte ^ key[index % 4] for index, byte in enumerate(payload))
