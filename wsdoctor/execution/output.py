"""A child's standard output and error, kept bounded: the head and the tail, and what was dropped.

The child writes into pipes that a thread per child drains from its start; a test that prints 200 MB
(or a pytest that prints a failing test's 200 MB of captured output in its summary) costs
wsdoctor 2 x (HEAD + TAIL) bytes of memory and of disk, and the ends, where a dump says what it
is and where pytest prints its summary, survive.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
from pathlib import Path
from typing import IO

HEAD = 256_000  # bytes kept from the start of each stream
TAIL = 256_000  # ... and from its end
READ_SIZE = 65_536
PUMP_INTERVAL = 0.2  # seconds the draining thread waits for output before it checks whether to stop
# A child that writes a little at a time (pytest's progress: a dot per test) is read in batches:
# the thread lets its output gather for PUMP_BATCH seconds after each read instead of waking for
# every write (thousands a second, which cost the parent's CPU while the children need both cores).
# A read of PUMP_SMALL bytes or more means a child writing fast (200 MB of output): it is read
# without pauses, so its pipe (64 kB) does not stay full, until it is silent for PUMP_INTERVAL.
PUMP_SMALL = 16_384
PUMP_BATCH = 0.05


class CappedStream:
    """One pipe of a child, drained into a head and a tail, written to a file when the child ends."""

    def __init__(self, pipe: IO[bytes], path: Path) -> None:
        self.pipe: IO[bytes] | None = pipe
        self.fd = pipe.fileno()
        os.set_blocking(self.fd, False)
        self.path = path
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def drain(self) -> int:
        """Read what is there now, without waiting (end of file closes the pipe); the bytes read."""
        read = 0
        while self.pipe is not None:
            try:
                data = os.read(self.fd, READ_SIZE)
            except BlockingIOError:
                return read
            if not data:
                self.close()
                return read
            read += len(data)
            self.keep(data)
        return read

    def keep(self, data: bytes) -> None:
        room = HEAD - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        self.tail += data
        if len(self.tail) > TAIL:
            self.dropped += len(self.tail) - TAIL
            del self.tail[: len(self.tail) - TAIL]

    def close(self) -> None:
        if self.pipe is not None:
            with contextlib.suppress(OSError):
                self.pipe.close()
            self.pipe = None

    def save(self) -> None:
        """The head, a note of what was dropped, the tail (a grandchild may still hold the pipe: what it
        writes from now on is not waited for)."""
        self.drain()
        self.close()
        note = f"\n[... wsdoctor dropped {self.dropped} bytes here ...]\n".encode() if self.dropped else b""
        self.path.write_bytes(bytes(self.head) + note + bytes(self.tail))


class ChildStreams:
    """A child's stdout and stderr, drained by a thread of their own from the child's start: a
    child started before anyone waits for it (the first round's children, run side by side)
    never blocks on a full pipe."""

    def __init__(self, stdout: IO[bytes], stderr: IO[bytes], directory: Path) -> None:
        self.streams = (CappedStream(stdout, directory / "stdout.txt"), CappedStream(stderr, directory / "stderr.txt"))
        self._stop = threading.Event()
        self._pump = threading.Thread(target=self._drain_until_stopped, name="wsdoctor-child-output", daemon=True)
        self._pump.start()

    def _drain_until_stopped(self) -> None:
        fast = False  # the child writes fast: no pause between reads
        while not self._stop.is_set():
            open_streams = {stream.fd: stream for stream in self.streams if stream.pipe is not None}
            if not open_streams:
                return
            readable, _, _ = select.select(list(open_streams), [], [], PUMP_INTERVAL)
            read = sum(open_streams[fd].drain() for fd in readable)
            fast = read >= PUMP_SMALL or (fast and bool(readable))
            if readable and not fast:
                self._stop.wait(PUMP_BATCH)

    def stop(self) -> None:
        """Stop draining (what a grandchild still holding a pipe writes from now on is not waited for)."""
        self._stop.set()
        self._pump.join()

    def save(self) -> None:
        """Stop draining and write both files."""
        self.stop()
        for stream in self.streams:
            try:
                stream.save()
            except OSError as error:
                error.filename = error.filename or str(stream.path)
                raise
