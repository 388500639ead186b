"""`wsdoctor bisect VICTIM`: the minimal polluter (or state-setter), proven, and the state it leaks."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from wsdoctor.analysis.leaks import Leak, rank, replay_until, suspects, tokens_of
from wsdoctor.analysis.search import SearchExhausted, SearchLog, find_minimal_set
from wsdoctor.analysis.verdicts import CommandStyle
from wsdoctor.codec import write_atomic
from wsdoctor.commands.bisect_setup import BisectRequest, Workspace, check_victim, failing_order, open_workspace
from wsdoctor.errors import EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK, UsageError
from wsdoctor.execution.child import ChildSettings
from wsdoctor.execution.interpreter import check_interpreter
from wsdoctor.execution.pool import Executor
from wsdoctor.oracle import Oracle
from wsdoctor.planner import files_in_order
from wsdoctor.records import (
    FOUND_BY_BISECT,
    BisectResult,
    BisectVerdict,
    Collection,
    Confidence,
    PlanResult,
    RecordStatus,
    Scope,
    Verdict,
)
from wsdoctor.render.bisect_view import render_bisect
from wsdoctor.render.json_out import bisect_document
from wsdoctor.store import save_record

SUSPECTS_TRIED = 8


def bisect_command(request: BisectRequest, out: Console, err: Console) -> int:
    session = BisectSession.prepare(request, err)
    try:
        result = session.conclude()
    except KeyboardInterrupt:
        err.print(f"interrupted: the journal in {session.workspace.journal} lets `--resume` pick up from here")
        return EXIT_INTERRUPTED
    render_bisect(result, out)
    return EXIT_OK if result.verdict in FOUND_BY_BISECT else EXIT_FINDINGS


class BisectSession:
    def __init__(self, request: BisectRequest, workspace: Workspace, executor: Executor,
                 order: tuple[str, ...], collect_args: tuple[str, ...], err: Console) -> None:
        self.request = request
        self.options = request.options
        self.victim = request.options.victim
        self.workspace = workspace
        self.collection = workspace.collection
        self.executor = executor
        self.order = order  # the tests before the victim in the order to confirm
        self.collect_args = collect_args
        self.err = err
        self.started = time.monotonic()
        self.log = SearchLog()
        self.oracle = Oracle(executor, self.collection, self.victim, workspace.journal, self.options.repeat,
                             deadline=self.started + self.options.budget)
        self.suite_run: PlanResult | None = None  # the confirming run of the given order, with probes
        self.proof = (0, 0)  # failures and runs of the final set

    # --- setting up -----------------------------------------------------------------

    @classmethod
    def prepare(cls, request: BisectRequest, err: Console) -> BisectSession:
        """The session, recorded as running; bad input leaves no record."""
        options = request.options
        if request.python_given:
            check_interpreter(options.python, request.cwd)
        workspace = open_workspace(request, err)
        try:
            collection = workspace.collection
            settings = ChildSettings.of(options, request.cwd, workspace.directory, collection)
            executor = Executor(settings, options.workers, None)
            check_victim(options.victim, [t.nodeid for t in collection.tests], options.paths)
            order, collect_args = failing_order(request, collection, executor)
        except UsageError:
            workspace.discard()
            raise
        running = dataclasses.replace(workspace.record, status=RecordStatus.RUNNING)
        workspace = dataclasses.replace(workspace, record=running)
        save_record(workspace.directory, running)
        return cls(request, workspace, executor, order, collect_args, err)

    def conclude(self) -> BisectResult:
        """Execute, and record how it ended: Ctrl-C and internal errors are recorded, then raised."""
        try:
            result = self.execute()
        except KeyboardInterrupt:
            self.finish(RecordStatus.INTERRUPTED)
            raise
        except Exception:
            self.finish(RecordStatus.FAILED)  # the journal stays for --resume
            raise
        self.finish(RecordStatus.COMPLETE, result)
        return result

    # --- the steps ----------------------------------------------------------------

    def execute(self) -> BisectResult:
        victim = self.victim
        self.say(f"bisecting {victim}: confirming that it fails in the given order "
                 f"({len(self.order)} test(s) before it) and passes alone")
        in_order, alone = self._confirm()
        self.suite_run = in_order[0]
        order_failures = sum(self.oracle.victim_failed(r) for r in in_order)
        alone_failures = sum(self.oracle.victim_failed(r) for r in alone)
        repeat = len(alone)
        if alone_failures == repeat and order_failures == repeat:
            return self._result(Verdict.FAILS_ALONE, f"{victim} fails alone too: no other test is to blame")
        if 0 < alone_failures < repeat:
            return self._result(Verdict.FLAKY, f"alone it failed {alone_failures} of {repeat} runs")
        if alone_failures == repeat:
            return self._search_state_setters(in_order[0])
        if order_failures:
            confidence = f"the failing order failed {order_failures} of {len(in_order)} run(s)"
            return self._search_polluters(self.order, in_order[0], confidence)
        return self._find_order_then_search(in_order[0])

    def _confirm(self) -> tuple[list[PlanResult], list[PlanResult]]:
        plan = dataclasses.replace(self.oracle.order_plan(self.order, state_probes=True),
                                   collect_args=self.collect_args, label="bisect: the failing order")
        runs = self.oracle.run([plan, self.oracle.alone_plan()])
        repeat = self.oracle.repeat
        return runs[:repeat], runs[repeat:]

    def _search_polluters(self, order: tuple[str, ...], probe_run: PlanResult,
                          confidence: str) -> BisectResult:
        ranked, tokens = self._ranked_leaks(probe_run)
        hints = suspects(ranked, tokens, SUSPECTS_TRIED)
        files = self._import_candidates(probe_run)
        file_hints = [h for h in hints if h in files]
        test_hints = [h for h in hints if h in order]
        try:
            if file_hints or not test_hints:
                found = self._search_imports(files, file_hints)
                if found:
                    return self._polluted(found, Scope.FILE_IMPORT, confidence)
            self.say(f"searching {len(order)} test(s) for the minimal set of polluters")
            # The confirming run just failed after all of `order`; should the narrower collection
            # of the search runs not fail, the prefix search finds out and says so.
            polluters = find_minimal_set(order, self.oracle.tests_fail, self.options.workers,
                                         test_hints, self.log)
        except SearchExhausted as stop:
            return self._result(Verdict.NOT_REPRODUCED, f"the search stopped: {stop}")
        return self._polluted(polluters, Scope.TEST if len(polluters) == 1 else Scope.TESTS, confidence)

    def _search_imports(self, files: list[str], hints: list[str]) -> tuple[str, ...]:
        self.say(f"checking whether importing one of {len(files)} file(s) is enough to break the victim")
        try:
            return find_minimal_set(files, self.oracle.imports_fail, self.options.workers, hints,
                                    self.log, known_to_fail=False)
        except SearchExhausted:
            self.log.steps.append("collecting the other files without running their tests does not "
                                  "fail the victim: the polluter is a test")
            return ()

    def _search_state_setters(self, passing_run: PlanResult) -> BisectResult:
        victim = self.victim
        if not self.oracle.victim_failed(passing_run) and self.order:
            self.say(f"{victim} passes after {len(self.order)} test(s) and fails alone: "
                     "searching for the state-setter it depends on")
            ranked, tokens = self._ranked_leaks(passing_run)
            try:
                setters = find_minimal_set(self.order, self.oracle.passes_after, self.options.workers,
                                           suspects(ranked, tokens, SUSPECTS_TRIED), self.log)
            except SearchExhausted as stop:
                return self._result(Verdict.FAILS_ALONE, f"fails alone; no state-setter found ({stop})")
            final = self._final_run(setters, expect_failure=False)
            leaks = self._leaks_by(final, setters)
            return self._result(
                Verdict.BRITTLE, f"{victim} passes only after {', '.join(setters)}", state_setters=setters,
                leaked_state=tuple(leak.change for leak in leaks),
                reproduce=(self._pytest(victim) + "  # fails", self._pytest(*setters, victim) + "  # passes"))
        return self._result(Verdict.FAILS_ALONE, f"{victim} fails alone and in the order")

    def _find_order_then_search(self, passing_run: PlanResult) -> BisectResult:
        victim = self.victim
        self.say(f"{victim} passes in the given order: looking for an order that fails it")
        others = [t.nodeid for t in self.collection.tests if t.nodeid != victim]
        attempts = [("all other tests before it", tuple(others)),
                    ("all other tests, reversed, before it", tuple(reversed(others)))]
        try:
            for description, attempt in attempts:
                run = self.oracle.run([self.oracle.order_plan(attempt, state_probes=True)])[0]
                self.log.steps.append(f"{description}: victim {'fails' if self._failed(run) else 'passes'}")
                if self._failed(run):
                    return self._search_polluters(attempt, run, f"found by running {description}")
            found = self._try_groups(others, passing_run)
        except SearchExhausted as stop:
            self.log.steps.append(str(stop))
            found = None
        if found is None:
            return self._result(Verdict.NOT_REPRODUCED, f"no order tried within the budget fails {victim}")
        group, run = found
        return self._search_polluters(group, run, "found in a group of tests run before it")

    def _try_groups(self, others: list[str], probe_run: PlanResult) -> tuple[tuple[str, ...], PlanResult] | None:
        """Smaller groups in parallel, so that a cleaner falls into another group than its polluter."""
        ranked, tokens = self._ranked_leaks(probe_run)
        first = suspects(ranked, tokens, len(others))
        pool = first + [t for t in others if t not in first]
        size = max(1, math.ceil(len(pool) / (2 * self.options.workers)))
        while True:
            groups = [tuple(sorted(pool[i:i + size], key=others.index)) for i in range(0, len(pool), size)]
            runs = self.oracle.run([self.oracle.order_plan(g) for g in groups])
            self.log.steps.append(f"{len(groups)} group(s) of up to {size} test(s): "
                                  f"{sum(self._failed(r) for r in runs)} fail the victim")
            for group, run in zip(groups, runs[:: self.oracle.repeat], strict=False):
                if self._failed(run):
                    return group, run
            if size == 1:
                return None
            size = max(1, size // 2)

    # --- evidence ---------------------------------------------------------------------

    def _ranked_leaks(self, run: PlanResult) -> tuple[list[Leak], set[str]]:
        result = run.result_of(self.victim)
        texts = [result.message, result.longrepr] if result is not None else []
        texts.append(_source_of(self.victim, self.collection, self.request.cwd))
        tokens = tokens_of(texts)
        return rank(replay_until(run, self.victim).leaks, tokens), tokens

    def _import_candidates(self, run: PlanResult) -> list[str]:
        victim_file = self.collection.path_of(self.victim)
        all_ids = [t.nodeid for t in self.collection.tests]
        files = files_in_order(self.collection, all_ids)
        collected = set(files_in_order(self.collection, run.plan.test_ids))
        broad = run.plan.collect_args != files_in_order(self.collection, run.plan.test_ids)
        return [f for f in files if f != victim_file and (broad or f in collected)]

    def _polluted(self, polluters: tuple[str, ...], scope: Scope, confidence: str) -> BisectResult:
        victim = self.victim
        final = self._final_run(polluters, expect_failure=True, imports=scope is Scope.FILE_IMPORT)
        leaks = self._leaks_by(final, polluters)
        if scope is Scope.FILE_IMPORT:
            deselect = [arg for f in polluters for arg in ("--deselect", f)]
            files = self.oracle.in_collection_order([*polluters, self.collection.path_of(victim)])
            collected = [victim if f == self.collection.path_of(victim) else f for f in files]
            reproduce = (self._pytest(*collected, *deselect) + "  # fails: importing is enough",
                         self._pytest(victim) + "  # passes")
        else:
            reproduce = (self._pytest(*polluters, victim) + "  # fails", self._pytest(victim) + "  # passes")
        what = "importing " + ", ".join(polluters) if scope is Scope.FILE_IMPORT else ", ".join(polluters)
        failed, total = self.proof
        detail = f"failed in {failed} of {total} run(s) after the polluters; {confidence}"
        level = Confidence.HIGH if total and failed == total else Confidence.MEDIUM
        return self._result(
            Verdict.ORDER_DEPENDENT, f"{victim} fails after {what}", polluters=polluters, scope=scope,
            leaked_state=tuple(leak.change for leak in leaks), confidence=level, confidence_detail=detail,
            cleaners=self._cleaners(leaks), reproduce=reproduce)

    def _final_run(self, chosen: tuple[str, ...], expect_failure: bool, imports: bool = False) -> PlanResult:
        """The proving run, with state probes on: it names what the chosen tests leave behind."""
        plan = self.oracle.import_plan(chosen) if imports else self.oracle.order_plan(chosen, state_probes=True)
        run = self.oracle.proving_run(plan, expect_failure)
        failed, total = self.oracle.failure_rate(plan)
        self.log.steps.append(f"proof: the victim failed in {failed} of {total} run(s) after "
                              f"{', '.join(chosen)}")
        self.proof = (failed, total)
        return run

    def _leaks_by(self, run: PlanResult, authors: Sequence[str]) -> list[Leak]:
        ranked, _ = self._ranked_leaks(run)
        return [leak for leak in ranked if any(_made_by(by, authors) for by in leak.changed_by)]

    def _cleaners(self, leaks: Sequence[Leak]) -> tuple[str, ...]:
        """Tests of the given order that put back state the polluters leak."""
        if self.suite_run is None:
            return ()
        keys = {leak.change.key for leak in leaks}
        reverts = replay_until(self.suite_run, self.victim).reverts
        return tuple(dict.fromkeys(test for key, test in reverts if key in keys))

    def _failed(self, run: PlanResult) -> bool:
        return self.oracle.victim_failed(run)

    # --- output -------------------------------------------------------------------------

    def _result(self, verdict: BisectVerdict, summary: str, **fields: object) -> BisectResult:
        return BisectResult(victim=self.victim, verdict=verdict, summary=summary,
                            trials=self.oracle.runs, seconds=round(time.monotonic() - self.started, 2),
                            steps=tuple(self.log.steps), **fields)  # type: ignore[arg-type]

    def _pytest(self, *args: str) -> str:
        python = self.options.python if self.request.python_given else "python"
        return CommandStyle(python=python, pytest_args=self.options.pytest_args, orders_dir="").pytest(*args)

    def say(self, text: str) -> None:
        self.err.print(text, highlight=False, markup=False)

    def finish(self, status: RecordStatus, result: BisectResult | None = None) -> None:
        """Record how the bisect ended (and its result); `--json` gets the result."""
        if status is not RecordStatus.COMPLETE:
            self.executor.kill_all()
        record = dataclasses.replace(self.workspace.record, status=status, result=result)
        save_record(self.workspace.directory, record)
        if result is not None and self.request.json_path is not None:
            write_atomic(self.request.json_path, json.dumps(bisect_document(result), indent=2))


# --- helpers ------------------------------------------------------------------------------


def _source_of(nodeid: str, collection: Collection, cwd: Path) -> str:
    """The victim's file text: names it uses point at the state it reads."""
    try:
        return (cwd / collection.path_of(nodeid)).read_text(encoding="utf-8")
    except OSError:
        return ""


def _made_by(author: str, chosen: Sequence[str]) -> bool:
    return any(author == c or c.startswith(author + "/") or author.startswith(c) for c in chosen)
