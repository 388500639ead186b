"""Minimal polluter search over an oracle; never starts a process itself.

The oracle answers, for several candidate sets at once (they run in parallel),
whether the victim fails after that set. Sets keep the candidates' order.

1. Evidence from state probes goes first: suspects whose leaked state the victim
   reads are tried alone, then together, before any search.
2. Without usable evidence, one test is the likeliest answer, and halves find it in
   about log2(N) runs whose sets shrink as they go: the first half of the tests
   known to fail the victim is run before it alone; when it fails it is the new set,
   otherwise the second half is (not run: a single polluter must be there). The last
   test standing is run alone before the victim unless that was done already.
3. When that test is not enough alone, no single test is: the victim needs tests
   from both sides of a split (a conjunction). Prefixes keep them together: the
   shortest failing prefix of the remaining candidates ends with an element the
   failure needs, found one at a time, W-ary over the oracle's width (each round
   costs W runs and cuts the range W+1 ways). A conjunction of k polluters costs
   about k * log_{W+1}(N) rounds after the halves, where plain bisection assumes one
   polluter and fails when two are needed together.

The same question is never asked twice: answers are remembered for the whole search.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

BatchOracle = Callable[[Sequence[tuple[str, ...]]], list[bool]]


class SearchExhausted(Exception):
    """The oracle stopped answering (budget spent, or interrupted), or the failure went away."""


class BudgetSpent(SearchExhausted):
    """The budget of trials or of time allows no more trials."""


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
    ask = _remembering(fails, log)
    hinted = _try_hints([h for h in hints if h in order], order, ask, width, log)
    if hinted is not None and len(hinted) == 1:
        return hinted
    if hinted is None and not known_to_fail and not ask([tuple(candidates)])[0]:
        raise SearchExhausted(f"the victim passes after all {len(candidates)} candidates")
    if hinted is not None:
        return _prefix_search(list(hinted), order, ask, width, log)
    single, smallest, passing = _halves(tuple(candidates), order, ask, log)
    if single is not None:
        return single
    return _prefix_search(list(smallest), order, ask, width, log, passing)


def _halves(pool: tuple[str, ...], order: dict[str, int], ask: BatchOracle,
            log: SearchLog) -> tuple[tuple[str, ...] | None, tuple[str, ...], int]:
    """One test that is enough, found by halving; else None, the smallest set seen failing,
    and how long a prefix of it is known to pass."""
    known, current, proven = pool, pool, True
    passing = 0  # pool[:passing] of the last set known to fail passes
    runs = 0
    while len(current) > 1:
        middle = len(current) // 2
        first = current[:middle]
        runs += 1
        if ask([first])[0]:
            known = current = first
            proven, passing = True, 0
        else:
            if current is known:
                passing = len(first)
            current, proven = current[middle:], False
    if not current:
        raise SearchExhausted("the victim passes after no test at all")
    if not proven:
        runs += 1
        proven = ask([current])[0]
    if proven:
        log.steps.append(f"halves: {current[0]} is enough alone, found among {len(pool)} test(s) "
                         f"in {runs} run(s)")
        return current, known, passing
    log.steps.append(f"halves: no single test is enough ({runs} run(s)); the victim needs several "
                     f"of the {len(known)} test(s) last seen failing it: searching prefixes")
    return None, known, passing


def _prefix_search(pool: list[str], order: dict[str, int], ask: BatchOracle, width: int,
                   log: SearchLog, passing: int = 0) -> tuple[str, ...]:
    """Needed elements one at a time: each the end of the shortest failing prefix.

    ``pool`` + ``kept`` fails at every turn (the caller's word at the first, then an answer ``ask``
    remembers): once the pool has run out, ``kept`` is that set and the check ends the loop.
    """
    kept: list[str] = []
    while not kept or not ask([_ordered(kept, order)])[0]:
        end = _shortest_failing_prefix(pool, kept, order, ask, max(1, width), passing)
        kept.append(pool[end - 1])
        log.steps.append(f"needed: {pool[end - 1]} (shortest failing prefix of {len(pool)})")
        pool, passing = pool[: end - 1], 0
    log.steps.append(f"{len(kept)} test(s) together are enough")
    return _ordered(kept, order)


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
                             ask: BatchOracle, width: int, passing: int = 0) -> int:
    """Smallest n such that pool[:n] + kept fails; pool + kept is known to fail, and so is
    nothing shorter than ``passing`` + 1 (pool[:passing] + kept passes)."""
    low, high = passing, len(pool)  # pool[:low] + kept passes (or low = 0), pool[:high] + kept fails
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


def _remembering(fails: BatchOracle, log: SearchLog) -> BatchOracle:
    """The oracle, asked only what it was not asked before in this search; counts what it was asked."""
    answers: dict[tuple[str, ...], bool] = {}

    def ask(sets: Sequence[tuple[str, ...]]) -> list[bool]:
        new = list(dict.fromkeys(s for s in sets if s not in answers))
        if new:
            log.queries += len(new)
            answers.update(zip(new, fails(new), strict=True))
        return [answers[s] for s in sets]

    return ask
