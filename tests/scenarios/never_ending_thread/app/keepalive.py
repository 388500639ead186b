"""Heartbeats from a background thread, until stop() is called."""

from __future__ import annotations

import threading
from typing import Callable


class HeartbeatSender:
    def __init__(self, send: Callable[[dict[str, str]], None], interval: float = 0.05) -> None:
        self._send = send
        self.interval = interval
        self.beats = 0
        self._stop = threading.Event()
        # Not a daemon: a heartbeat thread must not be killed in the middle of a send.
        self._thread = threading.Thread(target=self._run, name="heartbeat-sender")

    def start(self) -> HeartbeatSender:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._send({"op": "heartbeat"})
            self.beats += 1
