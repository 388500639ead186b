import pytest

from app.protocol import FrameError, parse_header, unmask


def test_parse_short_text_header():
    h = parse_header(b"\x81\x05hello")
    assert (h.fin, h.opcode, h.masked, h.length, h.size) == (True, 0x1, False, 5, 2)


def test_parse_extended_length():
    h = parse_header(b"\x82\x7e\x01\x00" + b"\x00" * 256)
    assert (h.opcode, h.length, h.size) == (0x2, 256, 4)


def test_unknown_opcode_rejected():
    with pytest.raises(FrameError, match="unknown opcode 0x3"):
        parse_header(b"\x83\x00")


def test_unmask_roundtrip():
    key = b"\x37\xfa\x21\x3d"
    assert unmask(unmask(b"payload", key), key) == b"payload"
