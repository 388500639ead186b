"""Room membership for the chat gateway. Module-level state: one registry per process."""

from __future__ import annotations

CAPACITY = {"lobby": 2, "support": 5}
DEFAULT_CAPACITY = 50

MEMBERS: dict[str, set[str]] = {}
LOCKED: set[str] = set()


class RoomLocked(Exception):
    """A moderator locked the room: nobody may join."""


def join(room: str, user: str) -> bool:
    """Add `user` to `room`; False when the room is full."""
    if room in LOCKED:
        raise RoomLocked(room)
    members = MEMBERS.setdefault(room, set())
    if len(members) >= CAPACITY.get(room, DEFAULT_CAPACITY):
        return False
    members.add(user)
    return True


def leave(room: str, user: str) -> None:
    MEMBERS.get(room, set()).discard(user)


def is_full(room: str) -> bool:
    return len(MEMBERS.get(room, ())) >= CAPACITY.get(room, DEFAULT_CAPACITY)


def evict_all(room: str) -> None:
    MEMBERS.pop(room, None)


def lock(room: str) -> None:
    LOCKED.add(room)


def unlock(room: str) -> None:
    LOCKED.discard(room)


def unlock_all() -> None:
    LOCKED.clear()
