"""Who is online, kept in a module-level set."""

from __future__ import annotations

ONLINE: set[str] = set()
LABELS = {"online": "Online", "away": "Away", "do not disturb": "Do not disturb", "offline": "Offline"}


def go_online(user: str) -> None:
    ONLINE.add(user)


def go_offline(user: str) -> None:
    ONLINE.discard(user)


def online_count() -> int:
    return len(ONLINE)


def label(status: str) -> str:
    return LABELS[status]
