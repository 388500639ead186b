"""Pure planning: collected tests + options -> ordered Plans."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

from wsdoctor.analysis.observations import outcomes_by_test
from wsdoctor.records import Collection, Context, Isolation, Plan, PlanResult, RunOptions

ALONE_RUNS = 2  # a test that did not pass is run alone this often: the second look
FILE_RUNS = 2


def files_in_order(collection: Collection, ids: Sequence[str]) -> tuple[str, ...]:
    """The files of ``ids`` in order of first appearance: the import order of that run."""
    seen: dict[str, None] = {}
    for nodeid in ids:
        seen.setdefault(collection.path_of(nodeid), None)
    return tuple(seen)


def in_collection_order(collection: Collection, paths: Sequence[str]) -> tuple[str, ...]:
    """Files in the order the suite imports them: import-time pollution depends on it."""
    rank = {path: i for i, path in enumerate(files_in_order(collection, [t.nodeid for t in collection.tests]))}
    return tuple(sorted(dict.fromkeys(paths), key=lambda path: rank.get(path, len(rank))))


def suite_plans(collection: Collection, options: RunOptions) -> list[Plan]:
    """The first round: the suite in its orders, repeated, plus any isolation runs."""
    ids = tuple(t.nodeid for t in collection.tests)
    orders: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
        ("suite", ids, options.paths)]
    if options.reverse:
        reversed_ids = ids[::-1]
        orders.append(("reverse", reversed_ids, files_in_order(collection, reversed_ids)))
    if options.shuffle is not None:  # the files imported in the suite's order, the tests shuffled
        shuffled = list(ids)
        random.Random(options.shuffle).shuffle(shuffled)
        orders.append((f"shuffle {options.shuffle}", tuple(shuffled), options.paths))
    # The audit reads the suite order's first run: only that one pays for the state probes.
    plans = [Plan(label=_repeat_label(label, r, options.repeat), context=Context.SUITE,
                     collect_args=args, test_ids=order, attempt=r,
                     state_probes=options.audit and (label, r) == ("suite", 0))
             for label, order, args in orders for r in range(options.repeat)]
    if options.isolate is Isolation.FILE:
        plans += file_plans(collection, files_in_order(collection, ids), attempts=1)
    if options.isolate is Isolation.TEST:
        plans += alone_plans(collection, ids, attempts=1)
    return plans


def discovering_plans(options: RunOptions) -> list[Plan]:
    """The first round when its children can collect for themselves: the suite in its order and,
    with --shuffle, shuffled by its child (as suite_plans shuffles it), each started at once, with
    no collection child before them. None when another order or an isolation is asked for."""
    if options.reverse or options.isolate or options.repeat > 1:
        return []
    plans = [Plan(label="suite", context=Context.SUITE, collect_args=options.paths, test_ids=(),
                  state_probes=options.audit)]
    if options.shuffle is not None:
        plans.append(Plan(label=f"shuffle {options.shuffle}", context=Context.SUITE, collect_args=options.paths,
                          test_ids=(), child_shuffle=options.shuffle))
    return plans


def _repeat_label(label: str, index: int, repeat: int) -> str:
    return f"{label} #{index + 1}" if repeat > 1 else label


def file_plans(collection: Collection, paths: Iterable[str], attempts: int,
               first_attempt: int = 0) -> list[Plan]:
    plans = []
    for path in paths:
        ids = tuple(t.nodeid for t in collection.tests if t.path == path)
        for r in range(first_attempt, first_attempt + attempts):
            plans.append(Plan(label=f"file {path}" + (f" #{r + 1}" if r else ""),
                                 context=Context.FILE, collect_args=(path,), test_ids=ids,
                                 attempt=r))
    return plans


def alone_plans(collection: Collection, ids: Iterable[str], attempts: int,
                first_attempt: int = 0) -> list[Plan]:
    return [Plan(label=f"alone {nodeid}" + (f" #{r + 1}" if r else ""),
                    context=Context.ALONE, collect_args=(collection.path_of(nodeid),),
                    test_ids=(nodeid,), attempt=r)
            for nodeid in ids for r in range(first_attempt, first_attempt + attempts)]


def second_look_plans(collection: Collection, plan_results: Sequence[PlanResult]) -> list[Plan]:
    """Every test that did not pass: its file alone, then the test alone, twice each."""
    observed = outcomes_by_test(plan_results)
    suspects = [t.nodeid for t in collection.tests
                if any(outcome.is_bad for _, outcome in observed.get(t.nodeid, ()))]
    plans: list[Plan] = []
    for path in files_in_order(collection, suspects):
        done = _done_in(plan_results, Context.FILE, (path,))
        plans += file_plans(collection, [path], attempts=max(0, FILE_RUNS - done), first_attempt=done)
    for nodeid in suspects:
        done = _done_in(plan_results, Context.ALONE, (collection.path_of(nodeid),), nodeid)
        plans += alone_plans(collection, [nodeid], attempts=max(0, ALONE_RUNS - done),
                             first_attempt=done)
    return plans


def _done_in(plan_results: Sequence[PlanResult], context: Context, collect_args: tuple[str, ...],
             nodeid: str | None = None) -> int:
    return sum(1 for result in plan_results if result.plan.context is context
               and result.plan.collect_args == collect_args
               and (nodeid is None or result.plan.test_ids == (nodeid,)))


def confirmation_plans(plan_results: Sequence[PlanResult], needs_confirmation: set[str]) -> list[Plan]:
    """Re-run each suite order that failed a test which passed elsewhere, up to its last such failure.

    Tests that fail everywhere need no confirmation of their order, which
    spares a second suite run when a suite simply has failing tests.
    """
    plans = []
    for result in plan_results:
        if result.plan.context is not Context.SUITE:
            continue
        bad = [i for i, r in enumerate(result.results)
               if r.outcome.is_bad and r.nodeid in needs_confirmation]
        if bad:
            prefix = result.plan.test_ids[: bad[-1] + 1]
            plans.append(Plan(label=f"{result.plan.label} (second look)", context=Context.SUITE,
                              collect_args=result.plan.collect_args, test_ids=prefix,
                              attempt=result.plan.attempt + 1))
    return plans
