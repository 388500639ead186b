import fcntl

import pytest
from websockets.asyncio.server import serve

import app.feed
from app.feed import FeedServer


@pytest.fixture
async def feed():
    server = FeedServer()
    async with serve(server.handler, "127.0.0.1", 0) as ws_server:
        server.url = f"ws://127.0.0.1:{ws_server.sockets[0].getsockname()[1]}"
        yield server


@pytest.fixture
def heartbeat_timing(request, monkeypatch):
    """Where the first jittered heartbeat lands, made reproducible for wsdoctor's own tests.

    In production this is random.uniform(0, interval): the heartbeat beats the pong only
    when it lands in the ~1 ms between ping and pong. Here the "luck" comes from a counter
    in <rootdir>/.flake_counter (created if missing, +1 on every run of a test using this
    fixture): on odd-numbered runs the heartbeat is due at once and wins the race (so the
    FIRST run fails, the second passes, the third fails, ...); on even runs it is a full
    interval away.
    """
    with open(request.config.rootpath / ".flake_counter", "a+") as counter:
        fcntl.flock(counter, fcntl.LOCK_EX)  # runs may happen in parallel processes
        counter.seek(0)
        run = int(counter.read() or 0) + 1
        counter.seek(0)
        counter.truncate()
        counter.write(f"{run}\n")
    heartbeat_first = run % 2 == 1
    monkeypatch.setattr(
        app.feed, "first_heartbeat_delay", lambda interval: 0.0 if heartbeat_first else interval
    )
