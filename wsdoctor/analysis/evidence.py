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


def histories(run: PlanRun) -> dict[str, str]:
    """Each test's history key, from what its child actually started before it.

    Hashed incrementally: a prefix hash per test would cost the square of the suite size.
    """
    keys: dict[str, str] = {}
    for child in run.children:
        _add_histories(keys, run, child.started)
    if any(nodeid not in keys for nodeid in run.plan.test_ids):  # the plan's order stands in for tests no child started
        _add_histories(keys, run, run.plan.test_ids)
    return keys


def _add_histories(keys: dict[str, str], run: PlanRun, started: Sequence[str]) -> None:
    digest = hashlib.sha1("\0".join([*run.plan.collect_args, "|"]).encode())
    for nodeid in started:
        digest.update(("\0" + nodeid).encode())
        keys.setdefault(nodeid, digest.hexdigest()[:12])


def sightings(run: PlanRun) -> dict[str, Sighting]:
    """Each test of one plan run, with the history of the child that actually ran it."""
    keys = histories(run)
    return {result.nodeid: Sighting(
                observation=Observation(run=run.plan.label, context=run.plan.context,
                                        outcome=result.outcome, message=result.message),
                history=keys.get(result.nodeid, result.nodeid))
            for result in run.results if result.outcome is not Outcome.NOT_RUN}


def sightings_by_test(runs: Sequence[PlanRun]) -> dict[str, list[Sighting]]:
    by_test: dict[str, list[Sighting]] = {}
    for run in runs:
        for nodeid, sighting in sightings(run).items():
            by_test.setdefault(nodeid, []).append(sighting)
    return by_test


def outcomes_by_test(runs: Sequence[PlanRun]) -> dict[str, list[tuple[Context, Outcome]]]:
    """What each test did in each run, in the run's context; cheaper than its sightings."""
    by_test: dict[str, list[tuple[Context, Outcome]]] = {}
    for run in runs:
        context = run.plan.context
        for result in run.results:
            if result.outcome is not Outcome.NOT_RUN:
                by_test.setdefault(result.nodeid, []).append((context, result.outcome))
    return by_test


def is_ordered(context: Context) -> bool:
    return context is not Context.ALONE
