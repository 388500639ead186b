"""A room registry (one instance per test is enough; nothing here is global)."""

from __future__ import annotations


class RoomRegistry:
    def __init__(self) -> None:
        self.rooms: dict[str, set[str]] = {}

    def create(self, name: str) -> None:
        if name in self.rooms:
            raise ValueError(f"room {name!r} exists")
        self.rooms[name] = set()

    def join(self, name: str, user: str) -> None:
        self.rooms[name].add(user)

    def close(self, name: str) -> set[str]:
        return self.rooms.pop(name)
