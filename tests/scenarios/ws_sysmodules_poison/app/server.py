"""Simulation server: pushes telemetry to dashboards and accepts commands over WebSocket."""
import asyncio
import json
import logging
import threading

import websockets

log = logging.getLogger(__name__)


class SimulationServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.tick = 0
        self.commands: list[dict] = []
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    async def _handler(self, websocket) -> None:
        async for raw in websocket:
            msg = json.loads(raw)
            kind = msg.get("type")
            if kind == "command":
                self.commands.append(msg)
                await websocket.send(json.dumps({"type": "ack", "command": msg["name"]}))
            elif kind == "get_telemetry":
                self.tick += 1
                await websocket.send(json.dumps({"type": "telemetry", "tick": self.tick}))
            else:
                await websocket.send(json.dumps({"type": "error", "reason": f"unknown type {kind!r}"}))

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        # websockets >= 14 resolves `serve` lazily, i.e. it imports
        # websockets.asyncio.server on first attribute access.
        async with websockets.serve(self._handler, self.host, self.port) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop.wait()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except Exception as exc:
            log.exception("simulation server crashed")
            self._startup_error = exc
            self._ready.set()

    def start(self, timeout: float = 5.0) -> "SimulationServer":
        self._thread = threading.Thread(target=self._run, name="simulation-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("simulation server did not become ready")
        if self._startup_error is not None:
            raise RuntimeError(f"simulation server failed to start: {self._startup_error}") from self._startup_error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def __enter__(self) -> "SimulationServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
