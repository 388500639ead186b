from unittest.mock import AsyncMock

import pytest


@pytest.fixture
def websocket():
    """A stand-in for starlette's WebSocket: every method is awaitable."""
    return AsyncMock()
