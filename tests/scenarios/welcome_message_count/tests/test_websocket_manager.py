import json
from unittest.mock import AsyncMock, Mock

import pytest
from starlette.websockets import WebSocket

from app.websocket_manager import WebSocketConnectionManager


@pytest.fixture
def manager():
    return WebSocketConnectionManager()


@pytest.fixture
def mock_websocket():
    ws = Mock(spec=WebSocket)
    ws.accept = AsyncMock()
    ws.send_text = AsyncMock()
    ws.close = Mock()
    return ws


def sent_payloads(ws):
    return [json.loads(c.args[0]) for c in ws.send_text.await_args_list]


async def test_websocket_connect(manager, mock_websocket):
    await manager.connect(mock_websocket, "stream-1")

    mock_websocket.accept.assert_awaited_once()
    assert manager.get_connection_count("stream-1") == 1


async def test_send_personal_message(manager, mock_websocket):
    await manager.connect(mock_websocket, "stream-1")

    ok = await manager.send_personal(mock_websocket, {"type": "trace", "step": 1})

    assert ok is True
    mock_websocket.send_text.assert_called_once()


async def test_send_personal_message_serializes_json(manager, mock_websocket):
    await manager.connect(mock_websocket, "stream-1")

    await manager.send_personal(mock_websocket, {"type": "trace", "data": {"x": [1, 2]}})

    mock_websocket.send_text.assert_called_once_with(
        json.dumps({"type": "trace", "data": {"x": [1, 2]}})
    )


async def test_broadcast_to_stream(manager, mock_websocket):
    await manager.connect(mock_websocket, "stream-1")

    delivered = await manager.broadcast_to_stream("stream-1", {"type": "session_update"})

    assert delivered == 1
    mock_websocket.send_text.assert_called_once()


async def test_connect_sends_welcome_message(manager, mock_websocket):
    await manager.connect(mock_websocket, "stream-1")

    (welcome,) = sent_payloads(mock_websocket)
    assert welcome["type"] == "connected"
    assert welcome["stream_id"] == "stream-1"


async def test_send_personal_after_welcome(manager, mock_websocket):
    await manager.connect(mock_websocket, "stream-1")
    assert sent_payloads(mock_websocket)[0]["type"] == "connected"
    calls_before = mock_websocket.send_text.await_count

    await manager.send_personal(mock_websocket, {"type": "trace", "step": 2})

    assert mock_websocket.send_text.await_count == calls_before + 1
    assert sent_payloads(mock_websocket)[-1] == {"type": "trace", "step": 2}


async def test_broadcast_reaches_every_subscriber(manager):
    sockets = []
    for _ in range(2):
        ws = Mock(spec=WebSocket)
        ws.accept = AsyncMock()
        ws.send_text = AsyncMock()
        await manager.connect(ws, "stream-2")
        sockets.append(ws)

    delivered = await manager.broadcast_to_stream("stream-2", {"type": "breakpoint_hit"})

    assert delivered == 2
    for ws in sockets:
        welcome, update = sent_payloads(ws)
        assert welcome["type"] == "connected"
        assert update == {"type": "breakpoint_hit"}
