"""`wsdoctor run`, its start: the record's directory and, for a plain run, the suite child.

Kept light on purpose: the suite child starts before the analysis and the terminal
rendering are imported (wsdoctor.commands.run_session), so the two overlap.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wsdoctor import __version__
from wsdoctor.commands.passthrough import check_pytest_args
from wsdoctor.commands.request import Request
from wsdoctor.execution.child import ChildSettings, LiveChild
from wsdoctor.execution.files import FileState
from wsdoctor.execution.pool import Executor
from wsdoctor.exits import ExitCode, UsageError
from wsdoctor.paths import shown_path
from wsdoctor.planner import discovering_plans
from wsdoctor.records import Plan, RecordStatus, RunOptions, RunRecord, Versions
from wsdoctor.store import RECORD_FILE, create_record_dir, load_record, save_record, this_process

if TYPE_CHECKING:
    from rich.console import Console

Consoles = Callable[[], "tuple[Console, Console]"]  # (out, err), made once the suite child runs


@dataclass(frozen=True, slots=True)
class RunRequest(Request[RunOptions]):
    """What `wsdoctor run` was asked."""


@dataclass(frozen=True, slots=True)
class StartedRun:
    """A run whose record directory exists and whose suite child may already be running."""

    request: RunRequest
    run_dir: Path
    record: RunRecord
    executor: Executor
    began: float  # time.monotonic() when the run began
    files: FileState  # the files every child starts from
    # The first round's plans whose children collect for themselves (wsdoctor.planner.discovering_plans),
    # each with its child when it could start at once (no more than --workers of them).
    discovering: tuple[tuple[Plan, LiveChild | None], ...] = ()


def start_run(request: RunRequest, discover: bool = True) -> StartedRun:
    """The record's directory and the first children; ``discover=False``: none before a collection
    (a shard's tests are known only once the whole suite is collected)."""
    began = time.monotonic()
    options = request.options
    _check_paths(request.cwd, options.paths)
    check_pytest_args(options.pytest_args)
    request.check_outputs()
    # wsdoctor's own interpreter has pytest (a dependency): only another one needs checking.
    versions = _checked(options.python, request.cwd) if request.python_given else None
    run_id, run_dir = create_record_dir(request.cwd)
    record = RunRecord(id=run_id, wsdoctor_version=__version__, cwd=str(request.cwd), options=options,
                       status=RecordStatus.RUNNING, versions=versions, created=time.time(), owner=this_process())
    executor = Executor(ChildSettings.of(options, request.cwd, run_dir), options.workers)
    save_record(run_dir, record)  # running, before any child: a run killed at any point is still found
    files = FileState.capture(request.cwd, run_dir / "files-left")  # before any child can write
    plans = discovering_plans(options) if discover else []
    discovering = tuple((plan, executor.start_discovering(plan) if index < options.workers else None)
                        for index, plan in enumerate(plans))
    return StartedRun(request=request, run_dir=run_dir, record=record, executor=executor,
                      began=began, files=files, discovering=discovering)


def _check_paths(cwd: Path, paths: Sequence[str]) -> None:
    for path in paths:
        if not (cwd / path.split("::", 1)[0]).exists():
            raise UsageError(f"path not found: {path} (paths are relative to {cwd})")


def _checked(python: str, cwd: Path) -> Versions:
    """Another interpreter's versions, once it is known to run a pytest the child supports.

    Imported here: packaging's import is not paid on the way to the suite child otherwise.
    """
    from wsdoctor.execution.interpreter import check_interpreter

    return check_interpreter(python, cwd)


def keep_interrupted(start: StartedRun) -> ExitCode:
    """Ctrl-C outside a session's own handling (before it, or at its very end): the record on disk,
    as far as it got, stays, and is never left running."""
    record = start.run_dir / RECORD_FILE
    try:
        on_disk = load_record(record)
    except UsageError:  # not written yet, or half of it: the record as it started
        on_disk = start.record
    if on_disk.status is not RecordStatus.COMPLETE:
        save_record(start.run_dir, dataclasses.replace(on_disk, status=RecordStatus.INTERRUPTED))
    sys.stderr.write(f"interrupted: kept what was recorded in {shown_path(record, start.request.cwd)}\n")
    return ExitCode.INTERRUPTED
