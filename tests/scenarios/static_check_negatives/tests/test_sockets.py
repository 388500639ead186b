import socket


# NEGATIVE (swallowed-exception): the except only guards best-effort cleanup; the test ends
# with an unconditional assert on what the server sent.
def test_ping_gets_pong(line_server):
    sock = socket.create_connection(line_server, timeout=5)
    try:
        sock.sendall(b"PING\n")
        reply = sock.makefile("rb").readline()
    finally:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except Exception:
            pass  # the server may have closed first
        sock.close()
    assert reply == b"PONG\n"


# NEGATIVE (swallowed-exception): the cleanup lives in the fixture (tests/conftest.py).
def test_unknown_command_gets_err(connection):
    connection.sendall(b"HELLO\n")
    assert connection.makefile("rb").readline() == b"ERR\n"


# POSITIVE twin (swallowed-exception): the assertion itself is inside the try, so a wrong
# reply, a refused connection or a timeout all pass.
def test_ping_gets_pong_swallowed(line_server):
    try:
        sock = socket.create_connection(line_server, timeout=5)
        sock.sendall(b"PING\n")
        assert sock.makefile("rb").readline() == b"PONG\n"
        sock.close()
    except Exception:
        pass
