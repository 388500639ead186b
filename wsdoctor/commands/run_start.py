"""`wsdoctor run`, its start: the record's directory and, for a plain run, the suite child.

Kept light on purpose: the suite child starts before the analysis and the terminal
rendering are imported (wsdoctor.commands.run_session), so the two overlap.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wsdoctor import __version__
from wsdoctor.commands.request import Request
from wsdoctor.execution.child import ChildSettings, LiveChild
from wsdoctor.execution.pool import Executor
from wsdoctor.exits import UsageError
from wsdoctor.records import Context, Plan, RecordStatus, RunOptions, RunRecord, Versions
from wsdoctor.store import create_record_dir

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
    suite_child: LiveChild | None  # set when the suite order alone is run: it collects too


def start_run(request: RunRequest) -> StartedRun:
    began = time.monotonic()
    options = request.options
    _check_paths(request.cwd, options.paths)
    # wsdoctor's own interpreter has pytest (a dependency): only another one needs checking.
    versions = _checked(options.python, request.cwd) if request.python_given else None
    run_id, run_dir = create_record_dir(request.cwd)
    record = RunRecord(id=run_id, wsdoctor_version=__version__, cwd=str(request.cwd), options=options,
                       status=RecordStatus.RUNNING, versions=versions, created=time.time())
    executor = Executor(ChildSettings.of(options, request.cwd, run_dir), options.workers)
    suite_child = executor.start_discovering(discovering_plan(options)) if only_the_suite_order(options) else None
    return StartedRun(request=request, run_dir=run_dir, record=record, executor=executor,
                      began=began, suite_child=suite_child)


def only_the_suite_order(options: RunOptions) -> bool:
    """A single suite run first: it can collect too, instead of a collection child before it."""
    return not (options.reverse or options.shuffle is not None or options.isolate or options.repeat > 1)


def discovering_plan(options: RunOptions) -> Plan:
    """The suite in collection order, its ids still unknown: the child collects them."""
    return Plan(label="suite", context=Context.SUITE, collect_args=options.paths, test_ids=(),
                   state_probes=options.audit)


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
