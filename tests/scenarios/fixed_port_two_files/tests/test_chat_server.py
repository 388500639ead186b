import json
import time

import pytest
from websockets.sync.client import connect

from app.chat import ChatServer


@pytest.fixture(scope="module")
def chat_url(app_port):
    server = ChatServer("127.0.0.1", app_port).start()
    yield f"ws://127.0.0.1:{app_port}"
    server.stop()


def test_welcome_on_connect(chat_url):
    with connect(chat_url, open_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=5)) == {"type": "welcome"}


def test_echo(chat_url):
    with connect(chat_url, open_timeout=5) as ws:
        ws.recv(timeout=5)
        ws.send(json.dumps({"text": "hi"}))
        assert json.loads(ws.recv(timeout=5)) == {"type": "echo", "text": "hi"}


def test_reconnect_after_idle(chat_url):
    with connect(chat_url, open_timeout=5) as ws:
        ws.recv(timeout=5)
    time.sleep(0.5)  # the client's reconnect back-off
    with connect(chat_url, open_timeout=5) as ws:
        assert json.loads(ws.recv(timeout=5)) == {"type": "welcome"}
