import os
import sys

import pytest

from app.frames import hexdump

# How much a frame dump prints, in characters (about 79 per line). Small by default; the
# size tests of the tool that runs this suite set it to tens or hundreds of megabytes.
DUMP_CHARS = int(os.environ.get("FRAME_DUMP_BYTES", "20000"))
TRAFFIC = bytes(range(256)) * 16


@pytest.fixture
def dump_traffic():
    """Print the captured traffic the way the team's debugging helper does."""

    block = "\n".join(hexdump(TRAFFIC)) + "\n"  # the same capture, replayed

    def dump(stream=sys.stdout):
        print("frame-dump: begin", file=stream)
        written = 0
        while written < DUMP_CHARS:
            stream.write(block)
            written += len(block)
        print("frame-dump: end", file=stream)

    return dump
