"""Assemble a TestVerdict for every collected test and every file that failed to collect."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from wsdoctor.analysis.classify import classify
from wsdoctor.analysis.evidence import Sighting, outcomes_by_test, sightings_by_test
from wsdoctor.childio import blocked_frame, error_summary
from wsdoctor.records import (
    Collection,
    CollectionError,
    Context,
    Outcome,
    PlanRun,
    RunOptions,
    TestVerdict,
    Verdict,
)

MAX_IDS_IN_COMMAND = 12


@dataclass(frozen=True, slots=True)
class CommandStyle:
    """How reproduce commands are spelled for this user."""

    python: str  # "python" unless the user pointed --python elsewhere
    pytest_args: tuple[str, ...]
    orders_dir: str  # where the order files of this run are kept, relative to cwd

    def pytest(self, *args: str) -> str:
        words = [self.python, "-m", "pytest", "-p", "no:randomly", *self.pytest_args, *args]
        return " ".join(shlex.quote(w) for w in words)


def needs_confirmation(runs: Sequence[PlanRun]) -> set[str]:
    """Tests that failed in a suite order and passed somewhere else."""
    return {nodeid for nodeid, found in outcomes_by_test(runs).items()
            if any(outcome.is_bad and context is Context.SUITE for context, outcome in found)
            and any(outcome.is_good for _, outcome in found)}


def all_verdicts(collection: Collection, runs: Sequence[PlanRun], options: RunOptions,
                 style: CommandStyle) -> tuple[TestVerdict, ...]:
    by_test = sightings_by_test(runs)
    verdicts = [_collection_verdict(error, collection, options, style) for error in collection.errors]
    for test in collection.tests:
        found = by_test.get(test.nodeid, [])
        verdict, reason = classify(found)
        verdicts.append(TestVerdict(
            nodeid=test.nodeid, verdict=verdict, reason=reason,
            observations=tuple(s.observation for s in found),
            reproduce=_reproduce(test.nodeid, verdict, found, runs, options, style),
            detail=_hang_detail(test.nodeid, runs, collection.rootdir)
            if verdict is Verdict.HANG else ""))
    return tuple(verdicts)


def _collection_verdict(error: CollectionError, collection: Collection, options: RunOptions,
                        style: CommandStyle) -> TestVerdict:
    if error.collects_alone:
        return TestVerdict(
            nodeid=error.path, verdict=Verdict.ORDER_DEPENDENT,
            reason="fails to import after other files were collected, imports fine alone",
            reproduce=(style.pytest("--collect-only", "-q", *options.paths) + "  # fails",
                       style.pytest("--collect-only", "-q", error.path) + "  # passes"),
            detail=error_summary(error.message))
    hidden = len(collection.tests)
    return TestVerdict(
        nodeid=error.path, verdict=Verdict.COLLECTION_ERROR,
        reason=(f"does not import: its {error.tests_in_file} test(s) never run, and a plain pytest "
                f"run stops at collection, hiding the other {hidden} test(s)"),
        reproduce=(style.pytest("--collect-only", "-q", error.path),),
        detail=error_summary(error.message))


def _reproduce(nodeid: str, verdict: Verdict, found: Sequence[Sighting], runs: Sequence[PlanRun],
               options: RunOptions, style: CommandStyle) -> tuple[str, ...]:
    if verdict is Verdict.PASS:
        return ()
    alone = style.pytest(nodeid)
    if verdict is Verdict.ORDER_DEPENDENT:
        return (_failing_order_command(nodeid, found, runs, options, style) + "  # fails",
                alone + "  # passes")
    if verdict is Verdict.BRITTLE:
        return (alone + "  # fails", style.pytest(*options.paths) + "  # passes")
    if verdict is Verdict.FLAKY:
        return (f"for i in 1 2 3 4 5; do {alone}; done  # outcomes differ",)
    return (alone,)


def _failing_order_command(nodeid: str, found: Sequence[Sighting], runs: Sequence[PlanRun],
                           options: RunOptions, style: CommandStyle) -> str:
    failing = next(s.observation.run for s in found
                   if s.observation.outcome.is_bad and s.observation.context is not Context.ALONE)
    run = next(r for r in runs if r.plan.label == failing)
    if run.plan.label == "suite":
        return style.pytest(*options.paths)
    if run.plan.context is Context.FILE:
        return style.pytest(*run.plan.collect_args)
    prefix = run.plan.test_ids[: run.plan.test_ids.index(nodeid) + 1]
    if len(prefix) <= MAX_IDS_IN_COMMAND:
        return style.pytest(*prefix)
    order_file = f"{style.orders_dir}/{_order_file_name(run.plan.label)}"
    return f"xargs -d '\\n' {style.pytest()} < {shlex.quote(order_file)}"


def _order_file_name(label: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in label).strip("-") + ".txt"


def order_files(runs: Sequence[PlanRun]) -> dict[str, tuple[str, ...]]:
    """The order of every suite run, by file name, for the reproduce commands."""
    return {_order_file_name(r.plan.label): r.plan.test_ids
            for r in runs if r.plan.context is Context.SUITE}


def _hang_detail(nodeid: str, runs: Sequence[PlanRun], rootdir: str) -> str:
    for run in runs:
        result = run.result_of(nodeid)
        if result is not None and result.outcome is Outcome.HANG:
            where = blocked_frame(result.longrepr, rootdir)
            if where:
                return f"blocked in {where}"
    return ""
