import socket

import pytest

from app.line_server import LineServer


@pytest.fixture
def line_server():
    server = LineServer("127.0.0.1", 0).start()
    yield server.address
    server.stop()


@pytest.fixture
def connection(line_server):
    sock = socket.create_connection(line_server, timeout=5)
    yield sock
    # Cleanup in a fixture: the peer may already be gone, so shutdown may fail. Not a test.
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except Exception:
        pass
    sock.close()
