"""Assemble a TestVerdict for every collected test and every file that failed to collect."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from wsdoctor.analysis.classify import classify, without_disturbed
from wsdoctor.analysis.contention import concurrent_children
from wsdoctor.analysis.observations import observations_by_test, outcomes_by_test
from wsdoctor.paths import common_directory, pytest_can_name
from wsdoctor.records import (
    Collection,
    CollectionError,
    Context,
    Observation,
    Outcome,
    PlanResult,
    RunOptions,
    RunVerdict,
    TestVerdict,
    Verdict,
)
from wsdoctor.text import blocked_frame, error_summary, first_line, slug

MAX_IDS_IN_COMMAND = 12


@dataclass(frozen=True, slots=True)
class CommandStyle:
    """How reproduce commands are spelled for this user."""

    python: str  # "python" unless the user pointed --python elsewhere
    pytest_args: tuple[str, ...]
    orders_dir: str  # where the order files of this run are kept, relative to cwd
    serial: tuple[str, ...] = ()  # what keeps one process's order in one process (`-n 0` with xdist)

    def pytest(self, *args: str, ids_follow: bool = False) -> str:
        """The command; ``ids_follow``: node ids are appended to it (by xargs).

        After the user's own pytest arguments the paths come after `--`: an option there that
        takes an optional value (`--debug`, `--cov`) would take the first path for its value."""
        named = nameable(args)
        if self.pytest_args:
            options, paths = _options_then_paths(named)
            named = [*options, "--", *paths] if paths or ids_follow else options
        words = [self.python, "-m", "pytest", "-p", "no:randomly", *self.serial, *self.pytest_args, *named]
        return " ".join(shlex.quote(w) for w in words)


SERIAL = ("-n", "0")  # an `-n` in the addopts would scatter a command's order over xdist workers


def serial_args(plugins: Sequence[str]) -> tuple[str, ...]:
    """`-n 0` where pytest-xdist is installed (an `-n` in the project's addopts would scatter a
    reproduce command's order over workers; `-p no:xdist` would make that addopts an error)."""
    return SERIAL if any(plugin.startswith("pytest-xdist-") for plugin in plugins) else ()


def nameable(args: Sequence[str]) -> list[str]:
    """Arguments pytest's command line takes. When a path or node id has a '[' in its path part
    (pytest refuses it), the paths are replaced by the directory that holds them all and the tests
    are selected by name with -k: the closest plain pytest comes (a file named this way cannot be
    collected alone)."""
    positional = _positional(args)
    if all(pytest_can_name(args[i]) for i in positional):
        return list(args)
    names = dict.fromkeys(args[i].rsplit("::", 1)[-1].split("[", 1)[0] for i in positional if "::" in args[i])
    rest = [arg for i, arg in enumerate(args) if i not in positional]
    selection = ["-k", " or ".join(names)] if names else []
    return [*rest, common_directory([args[i] for i in positional]), *selection]


_TAKE_VALUES = frozenset({"--deselect", "-k", "-m", "--ignore", "--ignore-glob"})


def _positional(args: Sequence[str]) -> list[int]:
    """Where the paths and node ids are among ``args`` (not an option, nor an option's value)."""
    return [i for i, arg in enumerate(args) if not arg.startswith("-") and (i == 0 or args[i - 1] not in _TAKE_VALUES)]


def _options_then_paths(args: Sequence[str]) -> tuple[list[str], list[str]]:
    positional = set(_positional(args))
    return ([arg for i, arg in enumerate(args) if i not in positional],
            [arg for i, arg in enumerate(args) if i in positional])


def needs_confirmation(plan_results: Sequence[PlanResult]) -> set[str]:
    """Tests that failed in a suite order and passed somewhere else."""
    return {nodeid for nodeid, found in outcomes_by_test(plan_results).items()
            if any(outcome.is_bad and context is Context.SUITE for context, outcome in found)
            and any(outcome.is_good for _, outcome in found)}


def all_verdicts(collection: Collection, plan_results: Sequence[PlanResult], options: RunOptions,
                 style: CommandStyle) -> tuple[TestVerdict, ...]:
    by_test = observations_by_test(plan_results, concurrent_children(plan_results))
    verdicts = [_collection_verdict(error, collection, options, style) for error in collection.errors]
    for test in collection.tests:
        found = by_test.get(test.nodeid, [])
        verdict, reason = classify(found)
        verdicts.append(TestVerdict(
            nodeid=test.nodeid, verdict=verdict, reason=reason,
            observations=tuple(found),
            reproduce=_reproduce(test.nodeid, verdict, found, plan_results, options, style),
            detail=_hang_detail(test.nodeid, plan_results, collection.rootdir)
            if verdict is Verdict.HANG else ""))
    return tuple(verdicts)


def _collection_verdict(error: CollectionError, collection: Collection, options: RunOptions,
                        style: CommandStyle) -> TestVerdict:
    if error.hung:
        where = blocked_frame(error.message, collection.rootdir)
        return TestVerdict(
            nodeid=error.path, verdict=Verdict.HANG,
            reason=(f"collecting it did not finish within the collection deadline: its {error.tests_in_file} "
                    "test(s) were never collected, and a plain pytest run waits there for ever"),
            reproduce=(style.pytest("--collect-only", "-q", error.path),),
            detail=f"blocked in {where}" if where else first_line(error.message))
    if error.collects_alone:
        return TestVerdict(
            nodeid=error.path, verdict=Verdict.ORDER_DEPENDENT,
            reason="fails to import after other files were collected, imports fine alone",
            reproduce=(style.pytest("--collect-only", "-q", *options.paths) + "  # fails",
                       style.pytest("--collect-only", "-q", error.path) + "  # passes"),
            detail=error_summary(error.message))
    if error.path.endswith("conftest.py"):
        directory = error.path.rsplit("/", 1)[0] if "/" in error.path else "."
        return TestVerdict(
            nodeid=error.path, verdict=Verdict.COLLECTION_ERROR,
            reason=(f"does not import: pytest stops before it collects anything, hiding the "
                    f"{error.tests_in_file} test(s) under {directory}/"),
            reproduce=(style.pytest("--collect-only", "-q", directory),), detail=error_summary(error.message))
    hidden = len(collection.tests)
    if not hidden and not error.tests_in_file:  # the session itself: pytest stopped before collecting
        return TestVerdict(
            nodeid=error.path, verdict=Verdict.COLLECTION_ERROR,
            reason="pytest stopped before it collected anything (a plugin, an option or the configuration): "
                   "no test of the suite ran, and a plain pytest run stops the same way",
            reproduce=(style.pytest("--collect-only", "-q", error.path),),
            detail=error_summary(error.message))
    return TestVerdict(
        nodeid=error.path, verdict=Verdict.COLLECTION_ERROR,
        reason=(f"does not import: its {error.tests_in_file} test(s) never run, and a plain pytest "
                f"run stops at collection, hiding the other {hidden} test(s)"),
        reproduce=(style.pytest("--collect-only", "-q", error.path),),
        detail=error_summary(error.message))


def _reproduce(nodeid: str, verdict: RunVerdict, found: Sequence[Observation], plan_results: Sequence[PlanResult],
               options: RunOptions, style: CommandStyle) -> tuple[str, ...]:
    if verdict is Verdict.PASS:
        return ()
    alone = style.pytest(nodeid)
    if verdict is Verdict.ORDER_DEPENDENT:
        return (_failing_order_command(nodeid, found, plan_results, options, style) + "  # fails",
                alone + "  # passes")
    if verdict is Verdict.BRITTLE:
        return (alone + "  # fails", style.pytest(*options.paths) + "  # passes")
    if verdict is Verdict.FLAKY:
        return (f"for i in 1 2 3 4 5; do {alone}; done  # outcomes differ",)
    return (alone,)


def _failing_order_command(nodeid: str, found: Sequence[Observation], plan_results: Sequence[PlanResult],
                           options: RunOptions, style: CommandStyle) -> str:
    kept, _ = without_disturbed(found)  # a failure set aside is no order to show: it passed alone in the machine
    failing = next(o.plan for o in kept if o.outcome.is_bad and o.context is not Context.ALONE)
    result = next(r for r in plan_results if r.plan.label == failing)
    if result.plan.label == "suite":
        return style.pytest(*options.paths)
    if result.plan.context is Context.FILE:
        return style.pytest(*result.plan.collect_args)
    prefix = result.plan.test_ids[: result.plan.test_ids.index(nodeid) + 1]
    if len(prefix) <= MAX_IDS_IN_COMMAND:
        return style.pytest(*prefix)
    order_file = f"{style.orders_dir}/{_order_file_name(result.plan.label)}"
    return f"xargs -d '\\n' {style.pytest(ids_follow=True)} < {shlex.quote(order_file)}"


def _order_file_name(label: str) -> str:
    return slug(label) + ".txt"


def order_files(plan_results: Sequence[PlanResult]) -> dict[str, tuple[str, ...]]:
    """The order of every suite run, by file name, for the reproduce commands."""
    return {_order_file_name(r.plan.label): r.plan.test_ids
            for r in plan_results if r.plan.context is Context.SUITE}


def _hang_detail(nodeid: str, plan_results: Sequence[PlanResult], rootdir: str) -> str:
    for plan_result in plan_results:
        result = plan_result.result_of(nodeid)
        if result is not None and result.outcome is Outcome.HANG:
            where = blocked_frame(result.longrepr, rootdir)
            if where:
                return f"blocked in {where}"
    return ""
