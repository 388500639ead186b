"""Process-wide broadcast hub: batches published messages and flushes them
to per-topic subscribers (WebSocket senders) every FLUSH_INTERVAL seconds."""
import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Any, Callable

logger = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.01

Subscriber = Callable[[Any], None]


class BroadcastHub:
    def __init__(self) -> None:
        self._subscribers: dict[str, list[Subscriber]] = defaultdict(list)
        self._queue: asyncio.Queue | None = None
        self._flusher: asyncio.Task | None = None

    @property
    def running(self) -> bool:
        return self._flusher is not None and not self._flusher.done()

    def subscribe(self, topic: str, callback: Subscriber) -> None:
        self._subscribers[topic].append(callback)

    def unsubscribe(self, topic: str, callback: Subscriber) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers[topic].remove(callback)

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        loop = loop or asyncio.get_running_loop()
        # Created once and reused for the life of the process.
        if self._queue is None:
            self._queue = asyncio.Queue()
        if not self.running:
            self._flusher = loop.create_task(self._flush_loop(), name="hub-flusher")

    async def publish(self, topic: str, message: Any) -> None:
        self.start()
        await self._queue.put((topic, message))

    def publish_nowait(self, topic: str, message: Any,
                       loop: asyncio.AbstractEventLoop | None = None) -> None:
        """For synchronous callers that own a loop (CLI tools, sync workers)."""
        self.start(loop)
        self._queue.put_nowait((topic, message))

    async def drain(self, timeout: float = 1.0) -> None:
        """Wait until everything published so far has been delivered."""
        if self._queue is not None:
            await asyncio.wait_for(self._queue.join(), timeout)

    async def stop(self) -> None:
        if self._flusher is None:
            return
        self._flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._flusher
        self._flusher = None

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            while not self._queue.empty():
                topic, message = self._queue.get_nowait()
                try:
                    for callback in list(self._subscribers.get(topic, ())):
                        callback(message)
                except Exception:
                    logger.exception("subscriber failed on %s", topic)
                finally:
                    self._queue.task_done()


hub = BroadcastHub()
