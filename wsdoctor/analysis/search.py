"""Minimal polluter search over an oracle; never starts a process itself.

The oracle answers, for several candidate sets at once (they run in parallel),
whether the victim fails after that set. Sets keep the candidates' order.

The search finds one necessary element at a time: the shortest failing prefix
of the remaining candidates ends with an element the failure needs. Prefixes
are searched W-ary (W = the oracle's width), so each round costs W runs and
cuts the range W+1 ways. A conjunction of k polluters costs about
k * log_{W+1}(N) rounds, where plain bisection assumes one polluter and
fails when two are needed together.

Evidence from state probes goes first: suspects whose leaked state the victim
reads are tried alone, then together, before any bisection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

BatchOracle = Callable[[Sequence[tuple[str, ...]]], list[bool]]


class SearchExhausted(Exception):
    """The oracle stopped answering (budget spent, or interrupted)."""


@dataclass
class SearchLog:
    """What the search asked and learnt, in order: shown to the user as narration."""

    steps: list[str] = field(default_factory=list)
    queries: int = 0


def find_minimal_set(candidates: Sequence[str], fails: BatchOracle, width: int = 2,
                     hints: Sequence[str] = (), log: SearchLog | None = None,
                     known_to_fail: bool = True) -> tuple[str, ...]:
    """A minimal subset of ``candidates`` after which the victim fails.

    With ``known_to_fail`` the caller has seen the victim fail after all of
    ``candidates``; otherwise that is checked when the hints do not settle it.
    """
    log = log if log is not None else SearchLog()
    order = {c: i for i, c in enumerate(candidates)}
    ask = _counting(fails, log)
    hinted = _try_hints([h for h in hints if h in order], order, ask, width, log)
    if hinted is not None and len(hinted) == 1:
        return hinted
    if hinted is None and not known_to_fail and not ask([tuple(candidates)])[0]:
        raise SearchExhausted(f"the victim passes after all {len(candidates)} candidates")
    pool = list(hinted if hinted is not None else candidates)
    kept: list[str] = []
    while True:
        if kept and ask([_ordered(kept, order)])[0]:
            log.steps.append(f"{len(kept)} test(s) together are enough")
            return _ordered(kept, order)
        if not pool:
            raise SearchExhausted("the failure disappeared while narrowing down; the victim is flaky")
        end = _shortest_failing_prefix(pool, kept, order, ask, max(1, width))
        kept.append(pool[end - 1])
        log.steps.append(f"needed: {pool[end - 1]} (shortest failing prefix of {len(pool)})")
        pool = pool[: end - 1]


def _try_hints(hints: Sequence[str], order: dict[str, int], ask: BatchOracle, width: int,
               log: SearchLog) -> tuple[str, ...] | None:
    """A single suspect that fails the victim, or the suspects together if they do; else None."""
    singles = list(hints[: max(1, width)])
    if singles:
        results = ask([(h,) for h in singles])
        for suspect, failed in zip(singles, results, strict=True):
            if failed:
                log.steps.append(f"suspect {suspect}, alone before the victim, is enough")
                return (suspect,)
        log.steps.append(f"no single suspect of {len(singles)} is enough")
    if len(hints) > 1 and ask([_ordered(hints, order)])[0]:
        log.steps.append(f"the {len(hints)} suspects together are enough")
        return _ordered(hints, order)
    return None


def _shortest_failing_prefix(pool: list[str], kept: list[str], order: dict[str, int],
                             ask: BatchOracle, width: int) -> int:
    """Smallest n such that pool[:n] + kept fails; pool + kept is known to fail."""
    low, high = 0, len(pool)  # pool[:low] + kept passes (or low = 0), pool[:high] + kept fails
    confirmed = False
    while high - low > 1:
        points = _split_points(low, high, width)
        results = ask([_ordered([*pool[:n], *kept], order) for n in points])
        for n, failed in zip(points, results, strict=True):
            if failed:
                high, confirmed = n, True
                break
            low = n
    if not confirmed and not ask([_ordered([*pool, *kept], order)])[0]:
        # Everything short of the whole pool passed, and now the whole pool passes too.
        raise SearchExhausted("the failure did not come back when repeated; the victim is flaky")
    return high


def _split_points(low: int, high: int, width: int) -> list[int]:
    span = high - low
    count = min(width, span - 1)
    return sorted({low + span * (i + 1) // (count + 1) for i in range(count)} - {low, high})


def _ordered(items: Sequence[str], order: dict[str, int]) -> tuple[str, ...]:
    return tuple(sorted(set(items), key=order.__getitem__))


def _counting(fails: BatchOracle, log: SearchLog) -> BatchOracle:
    def ask(sets: Sequence[tuple[str, ...]]) -> list[bool]:
        log.queries += len(sets)
        return fails(sets)

    return ask
