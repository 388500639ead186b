"""The gateway's hello frame: tells clients how often to send heartbeats."""

from __future__ import annotations


class Heartbeat:
    interval = 30.0  # seconds between client heartbeats
    grace = 10.0  # extra seconds before a silent client is dropped

    @classmethod
    def deadline(cls) -> float:
        return cls.interval + cls.grace


def hello_message(session_id: str) -> dict[str, object]:
    return {"op": "hello", "session": session_id, "heartbeat_interval": Heartbeat.interval}
