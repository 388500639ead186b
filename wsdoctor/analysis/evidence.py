"""Per-test evidence from the runs: what each test did in which run and with what history."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from wsdoctor.records import Context, Observation, Outcome, PlanRun


@dataclass(frozen=True, slots=True)
class Sighting:
    """An observation plus the process history that led up to it.

    Two sightings with the same history ran the same files' imports and the
    same tests before them in a fresh process: identical runs, so their
    outcomes must agree, or the test is flaky.
    """

    observation: Observation
    history: str


def history_key(collect_args: Sequence[str], started_before: Sequence[str]) -> str:
    digest = hashlib.sha1("\0".join([*collect_args, "|", *started_before]).encode())
    return digest.hexdigest()[:12]


def sightings(run: PlanRun) -> dict[str, Sighting]:
    """Each test of one plan run, with the history of the child that actually ran it."""
    found: dict[str, Sighting] = {}
    for result in run.results:
        if result.outcome is Outcome.NOT_RUN:
            continue
        prefix = _started_prefix(run, result.nodeid)
        found[result.nodeid] = Sighting(
            observation=Observation(run=run.plan.label, context=run.plan.context,
                                    outcome=result.outcome, message=result.message),
            history=history_key(run.plan.collect_args, prefix))
    return found


def _started_prefix(run: PlanRun, nodeid: str) -> tuple[str, ...]:
    for child in run.children:
        if nodeid in child.started:
            return child.started[: child.started.index(nodeid) + 1]
    # Never started (e.g. its file failed to collect in this run): the plan's order stands in.
    ids = run.plan.test_ids
    return ids[: ids.index(nodeid) + 1] if nodeid in ids else (nodeid,)


def sightings_by_test(runs: Sequence[PlanRun]) -> dict[str, list[Sighting]]:
    by_test: dict[str, list[Sighting]] = {}
    for run in runs:
        for nodeid, sighting in sightings(run).items():
            by_test.setdefault(nodeid, []).append(sighting)
    return by_test


def observations_by_test(runs: Sequence[PlanRun]) -> dict[str, list[Observation]]:
    return {nodeid: [s.observation for s in found]
            for nodeid, found in sightings_by_test(runs).items()}


def is_ordered(context: Context) -> bool:
    return context is not Context.ALONE
