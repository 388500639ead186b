"""The chat server: websockets' threaded (sync) implementation, one handler per client."""

from __future__ import annotations

import json
import threading

from websockets.sync.server import Server, ServerConnection, serve


def _handle(connection: ServerConnection) -> None:
    connection.send(json.dumps({"type": "welcome"}))
    for raw in connection:
        message = json.loads(raw)
        connection.send(json.dumps({"type": "echo", "text": message.get("text", "")}))


class ChatServer:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ChatServer:
        self._server = serve(_handle, self.host, self.port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="chat-server")
        self._thread.start()
        return self

    def stop(self) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._thread.join(timeout=5)
