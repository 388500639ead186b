import pytest
from websockets.asyncio.client import connect

from app.server import start


@pytest.fixture
async def client():
    server = await start("127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with connect(f"ws://127.0.0.1:{port}") as connection:
        yield connection
    server.close()
    await server.wait_closed()
