"""Dashboard-side client that talks to the simulation server."""
import json
import time

import websockets


class SocketManager:
    def __init__(self, url: str) -> None:
        self.url = url
        self.connection = None
        self.latest_telemetry: dict | None = None
        self.audit_log: list[tuple[float, str]] = []

    async def connect(self) -> None:
        self.connection = await websockets.connect(self.url)
        self._audit("connected")

    async def send_command(self, name: str, **params) -> None:
        if self.connection is None:
            raise RuntimeError("not connected")
        await self.connection.send(json.dumps({"type": "command", "name": name, "params": params}))
        self._audit(f"command:{name}")

    def handle_message(self, raw: str) -> None:
        msg = json.loads(raw)
        if msg.get("type") == "telemetry":
            self.latest_telemetry = msg
        self._audit(f"recv:{msg.get('type')}")

    def _audit(self, event: str) -> None:
        self.audit_log.append((time.time(), event))
