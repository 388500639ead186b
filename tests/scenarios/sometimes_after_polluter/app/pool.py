"""A round-robin connection pool kept at module level."""

from pathlib import Path

POOL: list[dict[str, object]] = []
# Round-robin position, kept in a file so that the rotation carries on from one test
# process to the next; in a real pool it is timing that decides which connection comes up.
_COUNTER = Path(__file__).resolve().parent.parent / ".pick_counter"


def add(connection: dict[str, object]) -> None:
    POOL.append(connection)


def acquire() -> dict[str, object]:
    if len(POOL) == 1:
        return POOL[0]
    turn = int(_COUNTER.read_text()) if _COUNTER.exists() else 0
    _COUNTER.write_text(str(turn + 1))
    return POOL[turn % len(POOL)]
