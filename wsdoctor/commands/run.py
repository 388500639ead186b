"""`wsdoctor run`: collect, run in orders and isolations, second looks, verdicts, record."""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from wsdoctor import __version__
from wsdoctor.analysis.verdicts import CommandStyle, all_verdicts, needs_confirmation, order_files
from wsdoctor.collect import collect_suite, collection_from
from wsdoctor.errors import EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK, UsageError, WsdoctorError
from wsdoctor.executor import ChildSettings, Executor, missing_result, probe_python
from wsdoctor.planner import confirmation_plans, second_look_plans, suite_plans
from wsdoctor.records import (
    Collection,
    Context,
    PlanRun,
    RunOptions,
    RunPlan,
    RunRecord,
    Verdict,
    Versions,
    write_atomic,
)
from wsdoctor.render.json_out import run_document
from wsdoctor.render.progress import ProgressUI
from wsdoctor.render.terminal import render_run
from wsdoctor.store import RECORD_FILE, create_run_dir, load_run, save_record


@dataclass(frozen=True, slots=True)
class RunRequest:
    options: RunOptions
    cwd: Path
    json_path: Path | None = None
    python_given: bool = False


def show_last(cwd: Path, out: Console) -> int:
    record = load_run(cwd)
    render_run(record, out, f"{record.id}")
    return EXIT_FINDINGS if record.findings() else EXIT_OK


def run_suite(request: RunRequest, out: Console, err: Console) -> int:
    _check_paths(request.cwd, request.options.paths)
    # wsdoctor's own interpreter has pytest (a dependency): only another one needs checking.
    versions = probe_python(request.options.python, request.cwd) if request.python_given else None
    run_id, run_dir = create_run_dir(request.cwd)
    session = RunSession(request, run_dir, RunRecord(
        id=run_id, wsdoctor_version=__version__, cwd=str(request.cwd), options=request.options,
        status="running", versions=versions), ProgressUI(err))
    try:
        session.execute()
    except UsageError:
        shutil.rmtree(run_dir)  # bad input found while collecting: nothing worth keeping yet
        raise
    except KeyboardInterrupt:
        session.finish("interrupted")
        err.print(f"interrupted: kept what was recorded in {session.record_path}")
        return EXIT_INTERRUPTED
    if request.options.bisect:
        session.bisect_victims(err)
    exit_code = EXIT_FINDINGS if session.record.findings() or session.record.audit() else EXIT_OK
    if request.json_path is not None:
        write_atomic(request.json_path, json.dumps(run_document(session.record, exit_code), indent=2))
    render_run(session.record, out, session.record_path)
    return exit_code


def _with_uncollected(run: PlanRun, collection: Collection, collect_errors: dict[str, str]) -> PlanRun:
    """Add the tests the suite child could not collect (found when their files were collected alone)."""
    known = set(run.plan.test_ids)
    extra = tuple(t.nodeid for t in collection.tests if t.nodeid not in known)
    if not extra:
        return run
    plan = dataclasses.replace(run.plan, test_ids=run.plan.test_ids + extra)
    results = run.results + tuple(missing_result(nodeid, collect_errors) for nodeid in extra)
    return dataclasses.replace(run, plan=plan, results=results)


def _only_the_suite_order(options: RunOptions) -> bool:
    """A single suite run first: it can collect too, instead of a collection child before it."""
    return not (options.reverse or options.shuffle is not None or options.isolate or options.repeat > 1)


def _check_paths(cwd: Path, paths: Sequence[str]) -> None:
    for path in paths:
        if not (cwd / path.split("::", 1)[0]).exists():
            raise UsageError(f"path not found: {path} (paths are relative to {cwd})")


class RunSession:
    """One `wsdoctor run`: owns the record and saves it after every phase."""

    def __init__(self, request: RunRequest, run_dir: Path, record: RunRecord, ui: ProgressUI) -> None:
        self.request = request
        self.run_dir = run_dir
        self.record = record
        self.ui = ui
        self.started = time.monotonic()
        self.runs: list[PlanRun] = []
        options = request.options
        self.settings = ChildSettings(python=options.python, cwd=request.cwd,
                                      pytest_args=options.pytest_args, timeout=options.timeout,
                                      artifacts=run_dir)
        self.executor = Executor(self.settings, options.workers, ui.test_done)

    @property
    def record_path(self) -> str:
        path = self.run_dir / RECORD_FILE
        try:
            return str(path.relative_to(self.request.cwd))
        except ValueError:
            return str(path)

    def execute(self) -> None:
        self.ui.note(f"wsdoctor {__version__} · run {self.record.id} · "
                     f"{self.request.options.workers} worker(s)")
        options = self.request.options
        if _only_the_suite_order(options):
            self._collect_while_running_the_suite()
            collection = self._collection()
        else:
            self._collect()
            collection = self._collection()
            self._phase("running the suite", suite_plans(collection, options))
        self._phase("second look at tests that did not pass", second_look_plans(collection, self.runs))
        self._phase("confirming failing orders",
                    confirmation_plans(self.runs, needs_confirmation(self.runs)))
        self._write_orders()
        verdicts = all_verdicts(collection, self.runs, self.request.options, self._command_style())
        self.record = dataclasses.replace(self.record, verdicts=verdicts)
        self.finish("complete")

    def _collection(self) -> Collection:
        if self.record.collection is None:
            raise WsdoctorError("no collection was recorded")
        return self.record.collection

    def _collect(self) -> None:
        self.ui.note("[bold]collecting[/]")
        self._set_collection(*collect_suite(self.executor, self.request.options.paths))

    def _collect_while_running_the_suite(self) -> None:
        options = self.request.options
        plan = RunPlan(label="suite", context=Context.SUITE, collect_args=options.paths, test_ids=(),
                       probe=options.audit)
        with self.ui.phase("collecting and running the suite", None):
            run, child, output = self.executor.run_discovering(plan)
        collection, versions = collection_from(self.executor, options.paths, child, output)
        self.runs.append(_with_uncollected(run, collection, output.collect_errors))
        self._set_collection(collection, versions)

    def _set_collection(self, collection: Collection, versions: Versions | None) -> None:
        self.settings = dataclasses.replace(self.settings, rootdir=collection.rootdir,
                                            inifile=collection.inifile)
        self.executor.settings = self.settings
        self.record = dataclasses.replace(self.record, collection=collection,
                                          versions=versions or self.record.versions)
        self._save()

    def _phase(self, title: str, plans: Sequence[RunPlan]) -> None:
        if not plans:
            return
        with self.ui.phase(title, sum(len(p.test_ids) for p in plans)):
            self.runs += self.executor.run_plans(plans)
        self._save()

    def _write_orders(self) -> None:
        orders = self.run_dir / "orders"
        orders.mkdir(exist_ok=True)
        for name, ids in order_files(self.runs).items():
            (orders / name).write_text("".join(i + "\n" for i in ids), encoding="utf-8")

    def _command_style(self) -> CommandStyle:
        python = self.request.options.python if self.request.python_given else "python"
        return CommandStyle(python=python, pytest_args=self.request.options.pytest_args,
                            orders_dir=str(Path(self.record_path).parent / "orders"))

    def bisect_victims(self, err: Console) -> None:
        """Bisect every order-dependent test of this run, starting from its record."""
        from wsdoctor.commands.bisect import BisectSession
        from wsdoctor.commands.bisect_setup import BisectRequest

        options = self.request.options
        victims = [v.nodeid for v in self.record.findings()
                   if v.verdict is Verdict.ORDER_DEPENDENT and "::" in v.nodeid]
        results = []
        for victim in victims:
            request = BisectRequest(victim=victim, cwd=self.request.cwd, paths=options.paths,
                                    pytest_args=options.pytest_args, python=options.python,
                                    python_given=self.request.python_given, workers=options.workers,
                                    timeout=options.timeout, from_run=self.record.id)
            session = BisectSession.prepare(request, err)
            result = session.execute()
            session.save(result)
            results.append(result)
        self.record = dataclasses.replace(self.record, bisects=tuple(results))
        save_record(self.run_dir, self.record)

    def finish(self, status: str) -> None:
        if status == "interrupted":
            self.executor.kill_all()
        self.record = dataclasses.replace(self.record, status=status)
        self._save()

    def _save(self) -> None:
        self.record = dataclasses.replace(
            self.record, runs=tuple(self.runs), children=self.executor.children_started,
            seconds=round(time.monotonic() - self.started, 2))
        save_record(self.run_dir, self.record)

