"""Price broadcaster: every connected dashboard gets every published tick."""
import asyncio
import json
import threading

from websockets.asyncio.server import broadcast, serve


def price_message(symbol: str, price: float) -> dict:
    return {"type": "price", "symbol": symbol.upper(), "price": round(price, 2)}


class BroadcastServer:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.clients: set = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    async def _handler(self, ws) -> None:
        self.clients.add(ws)
        try:
            await ws.send(json.dumps({"type": "welcome"}))
            await ws.wait_closed()
        finally:
            self.clients.discard(ws)

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(self._handler, self.host, self.port):
            self._ready.set()
            await self._stop.wait()

    def start(self) -> "BroadcastServer":
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._serve(),), name="ws-broadcast-server", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(timeout=5):
            raise RuntimeError("broadcast server did not start")
        return self

    def publish(self, message: dict) -> None:
        self._loop.call_soon_threadsafe(broadcast, set(self.clients), json.dumps(message))

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=5)
