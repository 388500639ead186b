"""`wsdoctor bisect VICTIM`: set up, run the strategy (wsdoctor.analysis.bisect) on real trials, record."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

from rich.console import Console

from wsdoctor.analysis.bisect import Case, bisect
from wsdoctor.analysis.trials import Trials, default_run_budget
from wsdoctor.analysis.verdicts import CommandStyle, serial_args
from wsdoctor.codec import write_atomic
from wsdoctor.commands.bisect_setup import (
    BisectRequest,
    Workspace,
    check_victim,
    collected,
    failing_order,
    open_workspace,
    read_order_file,
)
from wsdoctor.commands.passthrough import check_pytest_args
from wsdoctor.execution.child import ChildSettings
from wsdoctor.execution.interpreter import check_interpreter
from wsdoctor.execution.pool import Executor
from wsdoctor.execution.trial_runner import Budget, TrialRunner, load_journal
from wsdoctor.exits import ExitCode, UsageError, bisect_exit
from wsdoctor.records import BisectResult, Collection, RecordStatus, Versions
from wsdoctor.render.bisect_view import render_bisect
from wsdoctor.render.json_out import bisect_document, unfinished_bisect_document
from wsdoctor.store import save_ending, save_record, this_process


def bisect_command(request: BisectRequest, out: Console, err: Console) -> ExitCode:
    try:
        result = BisectSession.prepare(request, err).conclude()
    except KeyboardInterrupt:
        err.print(f"interrupted: `wsdoctor bisect {request.options.victim} --resume` picks up from here "
                  "(its journal keeps what it learnt)", highlight=False, markup=False, soft_wrap=True)
        return ExitCode.INTERRUPTED
    render_bisect(result, out)
    return bisect_exit(result)


class BisectSession:
    """One bisect: its record, its children, and the strategy run on them."""

    def __init__(self, request: BisectRequest, workspace: Workspace, executor: Executor, case: Case,
                 err: Console, started: float) -> None:
        self.request = request
        self.workspace = workspace
        self.executor = executor
        self.case = case
        self.err = err
        self.started = started  # time.monotonic() before the first child: its seconds are the bisect's too

    @classmethod
    def prepare(cls, request: BisectRequest, err: Console) -> BisectSession:
        """The session, recorded as running; bad input leaves no record."""
        started = time.monotonic()
        options = request.options
        check_pytest_args(options.pytest_args)
        request.check_outputs()
        if request.python_given:
            check_interpreter(options.python, request.cwd)
        listed = read_order_file(Path(options.order_file)) if options.order_file is not None else ()
        workspace = open_workspace(request)
        try:
            workspace = collected(workspace, request, err)
            collection = workspace.collection
            executor = Executor(ChildSettings.of(options, request.cwd, workspace.directory, collection),
                                options.workers, None, one_after_another=True)
            check_victim(options.victim, [t.nodeid for t in collection.tests], options.paths)
            order, collect_args = failing_order(request, collection, executor, listed)
        except UsageError:
            workspace.discard()
            raise
        except KeyboardInterrupt:
            record_ending(request, workspace, RecordStatus.INTERRUPTED)
            raise
        except Exception:
            record_ending(request, workspace, RecordStatus.FAILED)
            raise
        running = dataclasses.replace(workspace.record, status=RecordStatus.RUNNING, owner=this_process())
        workspace = dataclasses.replace(workspace, record=running)
        save_record(workspace.directory, running)
        case = Case(victim=options.victim, collection=collection, order=order, collect_args=collect_args,
                    workers=options.workers, source=_source_of(options.victim, collection, request.cwd),
                    style=_command_style(request, workspace.record.versions))
        return cls(request, workspace, executor, case, err, started)

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

    def execute(self) -> BisectResult:
        options = self.request.options
        journal = self.workspace.journal
        runs = options.budget_runs or default_run_budget(len(self.case.collection.tests), options.workers)
        confirmed = self.workspace.confirmed if options.repeat == 1 else ()
        budget = Budget(runs=runs, seconds=options.budget, tests=len(self.case.collection.tests))
        runner = TrialRunner(self.executor, options.victim, journal, budget,
                             options.workers, say=self.say, files=self.workspace.files, already=confirmed)
        usable = () if runner.one_at_a_time else confirmed  # side by side, they saw each other's files
        trials = Trials(runner, self.case.collection, options.victim, options.repeat, known=load_journal(journal),
                        max_runs=runs, ready=usable)
        trials.count += len(confirmed) - len(usable)  # run, though not used
        result = bisect(self.case, trials, self.say)
        if runner.replayed:
            self.say(f"replayed {runner.replayed} trial(s) from the journal of the earlier session")
        return dataclasses.replace(result, seconds=round(time.monotonic() - self.started, 2),
                                   trials=result.trials - runner.replayed,  # child runs of this session
                                   steps=(*result.steps, *runner.file_notes()))

    def say(self, text: str) -> None:
        self.err.print(text, highlight=False, markup=False)

    def finish(self, status: RecordStatus, result: BisectResult | None = None) -> None:
        """Record how the bisect ended (and its result); `--json` gets the result."""
        if status is not RecordStatus.COMPLETE:
            self.executor.kill_all()
        record_ending(self.request, self.workspace, status, result)


def record_ending(request: BisectRequest, workspace: Workspace, status: RecordStatus,
                  result: BisectResult | None = None) -> None:
    """Record how the bisect ended (and its result); `--json` gets the result."""
    save_ending(workspace.directory, dataclasses.replace(workspace.record, status=status, result=result))
    if request.json_path is not None:  # CI reads how it ended, never a missing file
        document = bisect_document(result) if result else unfinished_bisect_document(request.options.victim)
        write_atomic(request.json_path, json.dumps({**document, "status": status.value}, indent=2))


def _command_style(request: BisectRequest, versions: Versions | None) -> CommandStyle:
    """A bisect may start from a record without running a child first: `-n 0` wherever
    pytest-xdist is installed (harmless where the project does not distribute its suite)."""
    python = request.options.python if request.python_given else "python"
    return CommandStyle(python=python, pytest_args=request.options.pytest_args, orders_dir="",
                        serial=serial_args(versions.plugins if versions else ()))


def _source_of(nodeid: str, collection: Collection, cwd: Path) -> str:
    """The victim's file text: names it uses point at the state it reads."""
    try:
        return (cwd / collection.path_of(nodeid)).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
