"""Presence: a client that has not sent a heartbeat within the timeout is stale."""

from app import clock


def is_stale(last_seen: float, timeout: float = 30.0) -> bool:
    return clock.now() - last_seen > timeout


def reap(last_seen_by_client: dict[str, float], timeout: float = 30.0) -> list[str]:
    return sorted(client for client, seen in last_seen_by_client.items() if is_stale(seen, timeout))
