"""`run --audit`: the state changes left behind, ranked by what can break another test.

On real suites most changes are noise: caches that only grow, and worker threads that start and
stop. They bury the leaks that matter (a converter registered into a module-level dict and never
removed, an environment variable left set, a signal handler, a `sys.path` entry). So changes are
ranked: process-wide state and the project's own module state first, then what rarely breaks
another test, and the noise is folded into counts (still in `--json`, marked as such).
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from wsdoctor.analysis.leaks import one_name_per_value
from wsdoctor.records import StateChange


class Risk(str, enum.Enum):
    HIGH = "high"  # process-wide, or the project's module state: any later test may read it
    LOW = "low"  # seen only by some tests (a test module's globals), or rarely read (logging handlers)
    NOISE = "noise"  # grows or comes and goes without changing what a test sees


PROCESS_WIDE = frozenset({"environ", "sys.modules", "sys.path", "cwd", "signal", "patcher", "event-loop",
                          "socket", "file", "logging-disabled"})
_CACHE = re.compile(r"^lru_cache currsize=(\d+)")


@dataclass(frozen=True, slots=True)
class RankedChange:
    change: StateChange
    risk: Risk
    why: str


def ranked(changes: Sequence[StateChange]) -> list[RankedChange]:
    """Every change with its risk, the riskiest first (in the order they happened within a level)."""
    ended = _threads_gone_by_the_end(changes)
    found = [RankedChange(change, *_risk(change, ended)) for change in one_name_per_value(changes)]
    order = {Risk.HIGH: 0, Risk.LOW: 1, Risk.NOISE: 2}
    return sorted(found, key=lambda r: order[r.risk])


def significant(changes: Sequence[StateChange]) -> list[StateChange]:
    """The changes that can break another test: what `run --audit` fails on."""
    return [r.change for r in ranked(changes) if r.risk is not Risk.NOISE]


def folded(changes: Sequence[RankedChange]) -> Counter[str]:
    """The noise: how many pieces of state (not changes: a thread starts and stops) for each reason."""
    return Counter(why for why, _ in {(r.why, r.change.key) for r in changes if r.risk is Risk.NOISE})


def _risk(change: StateChange, ended: set[str]) -> tuple[Risk, str]:
    if change.kind == "thread":
        if change.name in ended:
            return Risk.NOISE, "thread(s) gone by the end of the session"
        return Risk.LOW, "a thread still running at the end"
    if change.kind in ("module-attr", "class-attr") and _cache_grew(change):
        return Risk.NOISE, "cache(s) that only grew"
    if change.kind == "logging" and change.before is None and change.after == "NullHandler":
        return Risk.NOISE, "library NullHandler(s) added on import"
    if change.kind in PROCESS_WIDE:
        return Risk.HIGH, "process-wide"
    if change.kind in ("module-attr", "class-attr"):
        if _in_a_test_module(change.name):
            return Risk.LOW, "a test module's own global"
        return Risk.HIGH, "module state of the project"
    return Risk.LOW, "rarely read by another test"


def _cache_grew(change: StateChange) -> bool:
    after = _CACHE.match(change.after or "")
    if after is None:
        return False
    before = _CACHE.match(change.before or "")
    return change.before is None or (before is not None and int(before.group(1)) <= int(after.group(1)))


def _in_a_test_module(name: str) -> bool:
    return any(part.startswith("test_") or part.endswith("_test") or part in ("tests", "test", "conftest")
               for part in name.split(".")[:-1])


def _threads_gone_by_the_end(changes: Sequence[StateChange]) -> set[str]:
    last: dict[str, str | None] = {}
    for change in changes:
        if change.kind == "thread":
            last[change.name] = change.after
    return {name for name, after in last.items() if after is None}
