import socket

import pytest

from app.broadcast import BroadcastServer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The original suite hard-codes WS_PORT = 8765. Here it is picked once at import time,
# so that concurrent runs on a shared machine don't collide, but within one pytest
# process it is just as fixed as the hard-coded constant.
WS_PORT = _free_port()


@pytest.fixture
def ws_port() -> int:
    return WS_PORT


@pytest.fixture
def broadcast_server():
    # The server thread is a daemon, so it goes away with the test process.
    return BroadcastServer("127.0.0.1", WS_PORT).start()
