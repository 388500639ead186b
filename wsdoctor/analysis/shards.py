"""Shards (pure): a deterministic, balanced share of the test files for one CI machine, and the
shards' records merged back into one, with what the split did to the orders.

Files are the unit: a file's tests share its imports and fixtures, and import-time pollution
needs the file whole. Files are dealt heaviest first to the lightest shard (ties: by path, then
the lower shard), weighed by the durations a previous run recorded, else by their test counts.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from wsdoctor.planner import files_in_order
from wsdoctor.records import Collection, Context, RunRecord, Verdict


@dataclass(frozen=True, slots=True)
class ShardSpec:
    index: int  # 1-based
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


MAX_SHARDS = 1000  # N of K/N: a share is dealt to each of N shards (1/99999999999999999999 was an internal error)


def parse_shard(text: str) -> ShardSpec | None:
    """'K/N' with 1 <= K <= N <= MAX_SHARDS; None when it is not that."""
    index, slash, count = text.partition("/")
    if not (slash and index.isdigit() and count.isdigit()):
        return None
    spec = ShardSpec(int(index), int(count))
    return spec if 1 <= spec.index <= spec.count <= MAX_SHARDS else None


def test_durations(record: RunRecord) -> dict[str, float]:
    """Each test's duration in the suite runs of a recorded run (the first one that ran it)."""
    durations: dict[str, float] = {}
    for plan_result in record.plan_results:
        if plan_result.plan.context is Context.SUITE:
            for result in plan_result.results:
                if result.duration > 0:
                    durations.setdefault(result.nodeid, result.duration)
    return durations


def file_weights(collection: Collection, durations: Mapping[str, float]) -> dict[str, float]:
    """Each file's weight: the sum of its tests' recorded durations (a test without one counts
    as the median test), or, with no durations at all, its number of tests."""
    known = [durations[t.nodeid] for t in collection.tests if t.nodeid in durations]
    typical = statistics.median(known) if known else 1.0
    weights: dict[str, float] = {}
    for test in collection.tests:
        weights[test.path] = weights.get(test.path, 0.0) + (durations.get(test.nodeid, typical) if known else 1.0)
    for error in collection.errors:  # a file that does not import still has to be reported by someone
        weights.setdefault(error.path, 0.0)
    return weights


def deal(weights: Mapping[str, float], count: int) -> list[tuple[str, ...]]:
    """Files into ``count`` shards, heaviest first to the lightest shard: deterministic."""
    loads = [0.0] * count
    shards: list[list[str]] = [[] for _ in range(count)]
    for path in sorted(weights, key=lambda p: (-weights[p], p)):
        lightest = min(range(count), key=lambda i: (loads[i], i))
        shards[lightest].append(path)
        loads[lightest] += weights[path]
    return [tuple(files) for files in shards]


def suite_files(collection: Collection) -> tuple[str, ...]:
    """Every file of the suite (those that did not import too), in its collection order."""
    order = [*files_in_order(collection, [t.nodeid for t in collection.tests]), *(e.path for e in collection.errors)]
    return tuple(dict.fromkeys(order))


def shard_files(collection: Collection, spec: ShardSpec, durations: Mapping[str, float]) -> tuple[str, ...]:
    """The files of shard ``spec``, in the suite's collection order."""
    mine = set(deal(file_weights(collection, durations), spec.count)[spec.index - 1])
    return tuple(path for path in suite_files(collection) if path in mine)


def shard_collection(collection: Collection, files: Sequence[str]) -> Collection:
    chosen = set(files)
    return dataclasses.replace(collection, tests=tuple(t for t in collection.tests if t.path in chosen),
                               errors=tuple(e for e in collection.errors if e.path in chosen))


# --- merging --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shard:
    label: str  # "2/4", or the record's id when it was not a shard
    record: RunRecord


def duplicated_tests(shards: Sequence[Shard]) -> dict[str, list[str]]:
    """Tests (or files) that more than one shard gave a verdict: the shards overlap."""
    owners: dict[str, list[str]] = {}
    for shard in shards:
        for verdict in shard.record.verdicts:
            owners.setdefault(verdict.nodeid, []).append(shard.label)
    return {nodeid: labels for nodeid, labels in owners.items() if len(labels) > 1}


def merge_runs(shards: Sequence[Shard], run_id: str, cwd: str, created: float,
               suite_files: Sequence[str]) -> RunRecord:
    """One record of every shard's tests, verdicts, plans and bisects, in the whole suite's order."""
    first = shards[0].record
    rank = {path: i for i, path in enumerate(suite_files)}
    tests = sorted((t for s in shards if s.record.collection for t in s.record.collection.tests),
                   key=lambda t: rank.get(t.path, len(rank)))
    errors = tuple(e for s in shards if s.record.collection for e in s.record.collection.errors)
    collection = Collection(rootdir=first.collection.rootdir if first.collection else cwd,
                            inifile=first.collection.inifile if first.collection else None,
                            tests=tuple(tests), errors=errors)
    paths = tuple(dict.fromkeys(p for s in shards for p in s.record.options.paths))
    return dataclasses.replace(
        first, id=run_id, cwd=cwd, created=created, options=dataclasses.replace(first.options, paths=paths),
        collection=collection, plan_results=tuple(p for s in shards for p in s.record.plan_results),
        verdicts=tuple(v for s in shards for v in s.record.verdicts),
        bisects=tuple(b for s in shards for b in s.record.bisects),
        seconds=max(s.record.seconds for s in shards),
        children_started=sum(s.record.children_started for s in shards))


def split_notes(shards: Sequence[Shard], merged: RunRecord,
                known_polluters: Mapping[str, Sequence[str]]) -> list[str]:
    """Where the split separated a polluter from its victim, or made an order the suite never runs.

    ``known_polluters``: victim -> polluters, as the shards' bisects, the baseline or an earlier
    record found them.
    """
    shard_of = {t.path: s.label for s in shards if s.record.collection for t in s.record.collection.tests}
    order = [t.nodeid for t in merged.collection.tests] if merged.collection else []
    verdicts = {v.nodeid: v.verdict for v in merged.verdicts}
    notes = []
    for victim, polluters in known_polluters.items():
        victim_shard = shard_of.get(victim.split("::", 1)[0])
        if victim_shard is None:
            continue
        apart = [p for p in polluters if shard_of.get(p.split("::", 1)[0], victim_shard) != victim_shard]
        if apart:
            where = ", ".join(f"{p} (shard {shard_of[p.split('::', 1)[0]]})" for p in apart)
            notes.append(f"the split separated {victim} (shard {victim_shard}) from its polluter(s) {where}: "
                         f"it never ran after them here, so its `{verdicts.get(victim, Verdict.PASS).value}` "
                         "says nothing about that order")
        elif verdicts.get(victim) is Verdict.ORDER_DEPENDENT and victim in order:
            notes.extend(_new_order_note(victim, polluters, victim_shard, order, shard_of))
    return notes


def _new_order_note(victim: str, polluters: Sequence[str], shard: str, order: Sequence[str],
                    shard_of: Mapping[str, str]) -> list[str]:
    placed = [order.index(p) for p in polluters if p in order]
    if not placed:
        return []
    between = order[min(placed) + 1: order.index(victim)]
    elsewhere = [t for t in between if shard_of.get(t.split("::", 1)[0]) != shard]
    if not elsewhere:
        return []
    return [f"the split made a new order: in shard {shard}, {victim} runs after its polluter(s) "
            f"{', '.join(polluters)} without the {len(elsewhere)} test(s) of other shards that the whole "
            f"suite runs between them (first: {elsewhere[0]}); an unsharded run may not fail it"]
