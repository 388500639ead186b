"""Simulation server: dashboards read the economy's state and inject policy commands over WebSocket."""
import asyncio
import json
import logging
import threading

from websockets.asyncio.server import serve

log = logging.getLogger(__name__)


class SimulationServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, tick_interval: float | None = 0.1) -> None:
        self.host = host
        self.port = port
        # None pauses the simulation: ticks then only happen through step().
        self.tick_interval = tick_interval
        self.tick = 0
        self.state = {"tax_rate": 0.2, "interest_rate": 0.05}
        self._pending: list[tuple[object, dict]] = []
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    async def _handler(self, ws) -> None:
        async for raw in ws:
            msg = json.loads(raw)
            kind = msg.get("type")
            if kind == "ping":
                await ws.send(json.dumps({"type": "pong"}))
            elif kind == "get_state":
                await ws.send(json.dumps({"type": "state", "tick": self.tick, **self.state}))
            elif kind == "command":
                # Commands are applied, and acknowledged, at the next simulation tick.
                self._pending.append((ws, msg))
            else:
                await ws.send(json.dumps({"type": "error", "reason": f"unknown type {kind!r}"}))

    async def _apply_pending(self) -> None:
        self.tick += 1
        pending, self._pending = self._pending, []
        for ws, cmd in pending:
            self.state[cmd["name"]] = cmd["value"]
            await ws.send(json.dumps({"type": "ack", "name": cmd["name"], "tick": self.tick}))

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self.tick_interval)
            await self._apply_pending()

    async def _serve(self) -> None:
        try:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            async with serve(self._handler, self.host, self.port) as server:
                self.port = server.sockets[0].getsockname()[1]
                ticker = asyncio.create_task(self._ticker()) if self.tick_interval else None
                self._ready.set()
                await self._stop.wait()
                if ticker is not None:
                    ticker.cancel()
        except Exception:
            # Keep the dashboard process alive whatever happens to the server.
            log.exception("simulation server crashed")
        finally:
            self._ready.set()

    def start(self) -> "SimulationServer":
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._serve(),), name="simulation-server", daemon=True
        )
        self._thread.start()
        self._ready.wait(timeout=5)
        return self

    def step(self) -> None:
        """Advance one tick by hand (paused simulations only)."""
        asyncio.run_coroutine_threadsafe(self._apply_pending(), self._loop).result(timeout=5)

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=5)
