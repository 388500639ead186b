"""`wsdoctor run` after its start: collect, run in orders and isolations, second looks, verdicts, record."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from wsdoctor import __version__
from wsdoctor.analysis.contention import solo_plans
from wsdoctor.analysis.verdicts import SERIAL, CommandStyle, all_verdicts, needs_confirmation, order_files
from wsdoctor.childio import ChildOutput
from wsdoctor.codec import write_atomic, write_text
from wsdoctor.collect import collect_suite, collection_from
from wsdoctor.commands.run_start import RunRequest, StartedRun
from wsdoctor.execution.files import FileRestore
from wsdoctor.execution.pool import RunInterrupted, by_worker, missing_result
from wsdoctor.exits import ExitCode, UsageError, WsdoctorError, run_exit
from wsdoctor.paths import shown_path
from wsdoctor.planner import confirmation_plans, second_look_plans, suite_plans
from wsdoctor.records import (
    BisectOptions,
    BisectResult,
    ChildProcess,
    Collection,
    Plan,
    PlanResult,
    RecordStatus,
    RunRecord,
    Verdict,
    Versions,
)
from wsdoctor.render.json_out import run_document
from wsdoctor.render.progress import ProgressUI
from wsdoctor.render.terminal import render_run
from wsdoctor.store import RECORD_FILE, save_ending, save_record

MIN_BISECT_SECONDS = 5.0  # a bisect started with less of the budget left cannot even confirm its victim
MIN_BISECT_RUNS = 3  # nor one with fewer child runs: its failing order, the victim alone, one search trial


def complete_run(start: StartedRun, out: Console, err: Console) -> ExitCode:
    request = start.request
    session = RunSession(start, ProgressUI(err))
    stopped = execute_to_verdicts(session, err)
    if stopped is not None:
        return stopped
    if request.options.bisect:
        session.bisect_victims(err)
    exit_code = run_exit(session.record)
    _write_json(request, session.record, exit_code)
    render_run(session.record, out, session.record_path)
    return exit_code


def execute_to_verdicts(session: RunSession, err: Console,
                        prepare: Callable[[RunSession], None] | None = None) -> ExitCode | None:
    """Run a session (after ``prepare``) to its verdicts, recording how it ended: None when it
    completed, the exit code when it was interrupted; errors are recorded and raised."""
    try:
        if prepare is not None:
            prepare(session)
        session.execute()
    except UsageError:
        shutil.rmtree(session.run_dir, ignore_errors=True)  # bad input found while collecting: nothing worth keeping
        raise
    except KeyboardInterrupt:
        session.finish(RecordStatus.INTERRUPTED)
        _write_json(session.request, session.record, ExitCode.INTERRUPTED)  # CI reads "interrupted", not nothing
        err.print(f"interrupted: kept what was recorded in {session.record_path}")
        return ExitCode.INTERRUPTED
    except Exception:
        session.finish(RecordStatus.FAILED)  # an internal error: what the children reported stays recorded
        raise
    return None


def _write_json(request: RunRequest, record: RunRecord, exit_code: int) -> None:
    if request.json_path is not None:
        write_atomic(request.json_path, json.dumps(run_document(record, exit_code), indent=2))


def _with_uncollected(run: PlanResult, collection: Collection, collect_errors: dict[str, str]) -> PlanResult:
    """Add the tests the suite child could not collect (found when their files were collected alone)."""
    known = set(run.plan.test_ids)
    extra = tuple(t.nodeid for t in collection.tests if t.nodeid not in known)
    if not extra:
        return run
    plan = dataclasses.replace(run.plan, test_ids=run.plan.test_ids + extra)
    results = run.results + tuple(missing_result(nodeid, collect_errors) for nodeid in extra)
    return dataclasses.replace(run, plan=plan, results=results)


class RunSession:
    """One `wsdoctor run` from its start on: owns the record and saves it between phases."""

    def __init__(self, start: StartedRun, ui: ProgressUI) -> None:
        self.request = start.request
        self.run_dir = start.run_dir
        self.record = start.record
        self.ui = ui
        self.began = start.began
        self.discovering = start.discovering
        self.plan_results: list[PlanResult] = []
        self.executor = start.executor
        self.files = start.files
        self.restored: dict[str, FileRestore] = {}
        self.executor.on_test_done = ui.test_done  # the events that came before are replayed
        self.executor.supervisor.on_collected = ui.collected

    @property
    def record_path(self) -> str:
        return shown_path(self.run_dir / RECORD_FILE, self.request.cwd)

    def execute(self) -> None:
        self.ui.note(f"wsdoctor {__version__} · run {self.record.id} · "
                     f"{self.request.options.workers} worker(s)")
        options = self.request.options
        if self.discovering:  # (a shard's are set once the whole suite was collected and dealt)
            self._collect_while_running_the_suite()
            collection = self._collection()
        else:
            if self.record.collection is None:  # not given by the caller (a shard's share of it)
                self._collect()
            collection = self._collection()
            self._phase("running the suite", suite_plans(collection, options))
        self._phase("second look at tests that did not pass", second_look_plans(collection, self.plan_results))
        self._phase("confirming failing orders",
                    confirmation_plans(self.plan_results, needs_confirmation(self.plan_results)))
        # Last, and one child at a time: what went wrong while other children ran, run again alone
        # (its smallest run first; the others too when that one did not go wrong again).
        while solos := solo_plans(self.plan_results):
            self._phase("running again, alone in the machine, what failed beside other children", solos, workers=1)
        self._write_orders()
        verdicts = all_verdicts(collection, self.plan_results, self.request.options, self._command_style())
        self.record = dataclasses.replace(self.record, verdicts=verdicts)
        self.finish(RecordStatus.COMPLETE)

    def _collection(self) -> Collection:
        if self.record.collection is None:
            raise WsdoctorError("no collection was recorded")
        return self.record.collection

    def _collect(self) -> None:
        self.ui.note("[bold]collecting[/]")
        self.use_collection(*collect_suite(self.executor, self.request.options.paths))
        self._put_back_files()
        self.note_xdist(())

    def _collect_while_running_the_suite(self) -> None:
        """The first round's children collect for themselves; the suite order's collection is the run's."""
        options = self.request.options
        title = "collecting and running the suite" + (" and a shuffled order" if len(self.discovering) > 1 else "")
        found: list[tuple[PlanResult, ChildProcess, ChildOutput]] = []
        workers = self.request.options.workers
        live = [waiting if waiting is not None or index >= workers else self.executor.start_discovering(plan)
                for index, (plan, waiting) in enumerate(self.discovering)]
        distributed: list[bool] = []

        def one_at_a_time(xdist: dict[str, Any]) -> None:
            """The suite child runs distributed: its workers are the concurrency the project chose,
            so the other orders wait for it (started again after it) instead of doubling it."""
            if xdist.get("used") and not distributed:
                distributed.append(True)
                for waiting in live[1:]:
                    if waiting is not None:
                        self.executor.supervisor.cancel(waiting)

        self.executor.supervisor.on_xdist = one_at_a_time
        with self.ui.phase(title, None, orders=len(self.discovering)), self._keeping_interrupted_runs():
            for index, ((plan, _), waiting) in enumerate(zip(self.discovering, live, strict=True)):
                if waiting is None or (index and distributed):
                    waiting = self.executor.start_discovering(plan)
                found.append(self.executor.finish_discovering(plan, waiting))
        self._put_back_files()
        (run, child, output), others = found[0], found[1:]
        collection, versions = collection_from(self.executor, options.paths, child, output)
        self.use_collection(collection, versions)
        if output.collected is None and collection.tests:  # it hung collecting a file: run the rest now
            self._phase("running the suite", suite_plans(collection, options))
        else:
            self.plan_results += by_worker(_with_uncollected(run, collection, output.collect_errors), output)
        self.plan_results += [split for result, _, other in others for split in by_worker(result, other)]
        self.note_xdist(sorted(output.worker_orders))

    def note_xdist(self, workers: Sequence[str]) -> None:
        """Say whether the project's pytest-xdist ran the suite, and where it was turned off, and why."""
        xdist = self.executor.supervisor.xdist
        if xdist is None:
            return
        if workers:
            self.ui.note(f"xdist: the suite order (and a shuffled one, after it) ran as the project runs it, on "
                         f"{len(workers)} worker(s) (--dist {xdist['dist']}); each worker's order is an order "
                         f"of its own ({', '.join(f'suite {w}' for w in workers)}, ...); off (-n 0) in the "
                         "children that run a given order: second looks, confirmations, bisects")
        else:
            self.ui.note(f"xdist: off (-n 0) for every order of this run, although the project runs "
                         f"{xdist['workers']} worker(s): --reverse, --repeat or --isolate give each child "
                         "its order, which one process must run")

    def use_collection(self, collection: Collection, versions: Versions | None) -> None:
        self.executor.settings = dataclasses.replace(self.executor.settings, rootdir=collection.rootdir,
                                                     inifile=collection.inifile, ignored=collection.hung)
        self.record = dataclasses.replace(self.record, collection=collection,
                                          versions=versions or self.record.versions)

    def _phase(self, title: str, plans: Sequence[Plan], workers: int | None = None) -> None:
        if not plans:
            return
        self._save()  # what is known so far, before children that may run long
        with self.ui.phase(title, sum(len(p.test_ids) for p in plans)), self._keeping_interrupted_runs():
            self.plan_results += self.executor.run_plans(plans, workers)
        self._put_back_files()
        self._save()

    def _put_back_files(self) -> None:
        """Every phase starts from the files the run started with (wsdoctor.execution.files)."""
        restored = self.files.restore()
        self.restored.update((r.shown, r) for r in restored)
        if restored:
            self.ui.note(f"  put back {len(restored)} file(s) the tests left: "
                         + escape(", ".join(map(str, restored[:5]))) + (" ..." if len(restored) > 5 else ""))

    @contextlib.contextmanager
    def _keeping_interrupted_runs(self) -> Iterator[None]:
        """On Ctrl-C, the tests the cut-short children finished go into the record too."""
        try:
            yield
        except RunInterrupted as interrupted:
            self.plan_results += interrupted.plan_results
            raise

    def _write_orders(self) -> None:
        orders = self.run_dir / "orders"
        orders.mkdir(exist_ok=True)
        for name, ids in order_files(self.plan_results).items():
            write_text(orders / name, "".join(i + "\n" for i in ids))

    def _command_style(self) -> CommandStyle:
        python = self.request.options.python if self.request.python_given else "python"
        # A run knows whether the project distributes its suite: a child said so.
        return CommandStyle(python=python, pytest_args=self.request.options.pytest_args,
                            serial=SERIAL if self.executor.supervisor.xdist is not None else (),
                            orders_dir=str(Path(self.record_path).parent / "orders"))

    def bisect_victims(self, err: Console, victims: Sequence[str] | None = None, budget: float | None = None,
                       budget_runs: int | None = None) -> tuple[str, ...]:
        """Bisect the order-dependent tests of this run (or ``victims``), starting from its record,
        within ``budget`` seconds and ``budget_runs`` child runs together; returns the victims the
        budget left no time (or runs) for. Each
        answer is first checked against the victims still to explain, in one run, and only those it
        does not explain are bisected (wsdoctor.analysis.victims)."""
        from wsdoctor.analysis.victims import can_explain_others
        from wsdoctor.commands.bisect import BisectSession
        from wsdoctor.commands.bisect_setup import BisectRequest

        options = self.request.options
        if victims is None:
            victims = [v.nodeid for v in self.record.findings()
                       if v.verdict is Verdict.ORDER_DEPENDENT and "::" in v.nodeid]
        deadline = None if budget is None else time.monotonic() + budget
        pending = list(victims)
        results: dict[str, BisectResult] = {}
        left_out: list[str] = []
        runs_left = budget_runs
        while pending:
            victim = pending.pop(0)
            remaining = None if deadline is None else deadline - time.monotonic()
            if (remaining is not None and remaining < MIN_BISECT_SECONDS) or \
                    (runs_left is not None and runs_left < MIN_BISECT_RUNS):
                left_out.append(victim)
                continue
            bisect_options = BisectOptions(victim=victim, paths=options.paths, pytest_args=options.pytest_args,
                                           python=options.python, workers=options.workers,
                                           timeout=options.timeout, collect_timeout=options.collect_timeout,
                                           budget=remaining, budget_runs=runs_left, from_run=self.record.id)
            request = BisectRequest(options=bisect_options, cwd=self.request.cwd,
                                    python_given=self.request.python_given)
            result = BisectSession.prepare(request, err).conclude()
            runs_left = None if runs_left is None else runs_left - result.trials
            if pending and can_explain_others(result):
                runs_left = None if runs_left is None else runs_left - 1  # the one run that checks them
                result, shared = self._shared_cause(result, pending, err)
                results.update((r.victim, r) for r in shared)
                pending = [v for v in pending if v not in result.explains]
            results[victim] = result
        ordered = [results[v] for v in victims if v in results]
        if ordered:  # else the record on disk is already this one (a clean gate's: megabytes, written once)
            self.record = dataclasses.replace(self.record, bisects=tuple(ordered))
            save_record(self.run_dir, self.record)
        return tuple(left_out)

    def _shared_cause(self, result: BisectResult, victims: list[str],
                      err: Console) -> tuple[BisectResult, list[BisectResult]]:
        """Which of ``victims`` the cause found for ``result.victim`` explains: one child run."""
        from wsdoctor.analysis.victims import explained, shared_cause_plan

        collection = self._collection()
        plan = shared_cause_plan(result, victims, collection)
        title = (f"checking whether the polluters of {escape(result.victim)} also explain the {len(victims)} "
                 "other order-dependent test(s): one run")
        with self.ui.phase(title, len(plan.test_ids)):
            run = self.executor.run_plans([plan])[0]
        self._put_back_files()
        updated, shared = explained(result, run, victims, collection, self._command_style())
        err.print(f"  they explain {len(shared)} of {len(victims)}", highlight=False, markup=False)
        return updated, shared

    def finish(self, status: RecordStatus) -> None:
        if status is not RecordStatus.COMPLETE:
            self.executor.kill_all()
            self._put_back_files()
        self.record = dataclasses.replace(self.record, status=status)
        self._save(save_ending)
        if self.restored:
            self.ui.note(f"the tests left {len(self.restored)} file(s) in the project or HOME; each was put back "
                         f"before the next children started (what they wrote: "
                         f"{escape(shown_path(self.files.aside, self.request.cwd))})")

    def _save(self, save: Callable[[Path, RunRecord], None] = save_record) -> None:
        self.record = dataclasses.replace(
            self.record, plan_results=tuple(self.plan_results), children_started=self.executor.children_started,
            seconds=round(time.monotonic() - self.began, 2))
        save(self.run_dir, self.record)

