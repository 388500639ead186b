import pytest

from app.native import FrameBuffer, read_frame
from app.protocol import FrameError
from app.worker import DecodeWorker


def test_read_frame_copies_payload():
    buf = FrameBuffer(b"\x81\x05hello")
    assert read_frame(buf) == b"\x81\x05hello"


def test_segfault():
    buf = FrameBuffer(b"\x81\x05hello")
    buf.release()
    # a released buffer must not be readable any more
    with pytest.raises(ValueError):
        read_frame(buf)


def test_read_frame_is_a_copy():
    buf = FrameBuffer(b"\x82\x02\x00\x01")
    data = read_frame(buf)
    buf.release()
    assert data == b"\x82\x02\x00\x01"


def test_hard_exit():
    worker = DecodeWorker()
    truncated = b"\x81\x05hel"
    with pytest.raises(FrameError):
        worker.decode(truncated)


def test_worker_decodes_masked_text_frame():
    worker = DecodeWorker()
    key = b"\x01\x02\x03\x04"
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(b"hello"))
    assert worker.decode(b"\x81\x85" + key + masked) == ("text", b"hello")
    assert worker.decoded == 1
