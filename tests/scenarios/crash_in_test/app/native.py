"""ctypes view of the frame buffers handed out by the native decoder's buffer pool."""
import ctypes


class FrameBuffer:
    def __init__(self, payload: bytes) -> None:
        self._buf = ctypes.create_string_buffer(payload, len(payload))
        self.address = ctypes.addressof(self._buf)
        self.length = len(payload)

    def release(self) -> None:
        self._buf = None
        # Mirrors the C pool, which NULLs the pointer when a buffer goes back to it.
        self.address = 0


def read_frame(buf: FrameBuffer) -> bytes:
    """Copy a frame out of a native buffer (zero-copy everywhere else)."""
    view = (ctypes.c_char * buf.length).from_address(buf.address)
    return bytes(view)
