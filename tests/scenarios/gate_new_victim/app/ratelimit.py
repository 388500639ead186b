"""A fixed-window rate limit per user. LIMITS is changed at runtime from the admin panel."""

from __future__ import annotations

LIMITS = {"messages_per_minute": 60}


class RateLimiter:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, int], int] = {}

    def allow(self, user: str, minute: int) -> bool:
        key = (user, minute)
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key] <= LIMITS["messages_per_minute"]


def set_limit(messages_per_minute: int) -> None:
    LIMITS["messages_per_minute"] = messages_per_minute
