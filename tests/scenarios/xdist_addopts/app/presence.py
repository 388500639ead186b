"""Who is online: a module-level set shared by the whole process."""

from __future__ import annotations

ONLINE: set[str] = set()


def go_online(user: str) -> None:
    ONLINE.add(user)


def go_offline(user: str) -> None:
    ONLINE.discard(user)


def reset() -> None:
    ONLINE.clear()


def stats() -> dict[str, int]:
    return {"online": len(ONLINE)}
