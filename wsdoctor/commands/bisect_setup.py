"""Setting up a bisect: the request, its record and directory, the victim, and the failing order."""

from __future__ import annotations

import dataclasses
import difflib
import shutil
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from wsdoctor import __version__
from wsdoctor.analysis.trials import first_halving_question
from wsdoctor.collect import collect_suite, collection_from
from wsdoctor.commands.request import Request
from wsdoctor.execution.child import ChildSettings, LiveChild
from wsdoctor.execution.files import FileState
from wsdoctor.execution.pool import Executor
from wsdoctor.exits import UsageError
from wsdoctor.planner import files_in_order
from wsdoctor.records import (
    BisectOptions,
    BisectRecord,
    Collection,
    Context,
    Plan,
    PlanResult,
    RecordStatus,
    RunRecord,
    Versions,
)
from wsdoctor.store import create_record_dir, load_run, newest_bisect_of, save_record, this_process

JOURNAL_FILE = "journal.jsonl"
FILES_LEFT = "files-left"  # what the trials' children left in the tree or HOME, moved aside
# Tests before the victim from which the first halving question is asked while the suite order
# still runs: below, that question costs a child little more than its start-up.
ASK_AHEAD_FROM = 200


@dataclass(frozen=True, slots=True)
class BisectRequest(Request[BisectOptions]):
    resume: bool = False  # continue the newest bisect of this victim


@dataclass(frozen=True, slots=True)
class Workspace:
    """A bisect's record and the directory that holds it, its journal and its children."""

    record: BisectRecord
    directory: Path
    made_now: bool  # by this invocation: removed again if the bisect is refused
    files: FileState | None = None  # the files every trial starts from, recorded before the first child
    confirmed: tuple[PlanResult, ...] = ()  # trials run while collecting: the suite order, the victim alone

    @property
    def journal(self) -> Path:
        return self.directory / JOURNAL_FILE

    @property
    def collection(self) -> Collection:
        if self.record.collection is None:
            raise UsageError(f"bisect {self.record.id} never finished collecting; start a new `wsdoctor bisect`")
        return self.record.collection

    def discard(self) -> None:
        """A refused bisect leaves no record."""
        if self.made_now:
            shutil.rmtree(self.directory, ignore_errors=True)


def open_workspace(request: BisectRequest) -> Workspace:
    """The bisect to resume, or a new one, recorded as running before any child starts (a bisect
    killed at any point is still found); its collection comes next (collected)."""
    if request.resume:
        return _resumed(request)
    _run_to_start_from(request)
    record_id, directory = create_record_dir(request.cwd)
    record = BisectRecord(id=record_id, wsdoctor_version=__version__, cwd=str(request.cwd),
                          options=request.options, status=RecordStatus.RUNNING, created=time.time(),
                          owner=this_process())
    files = FileState.capture(request.cwd, directory / FILES_LEFT)  # before any child can write
    save_record(directory, record)
    return Workspace(record=record, directory=directory, made_now=True, files=files)


def collected(workspace: Workspace, request: BisectRequest, err: Console) -> Workspace:
    """The workspace with its collection: the one it has (resumed), its run's, or collected now
    together with the first trials (also for a bisect interrupted before it had one)."""
    if workspace.record.collection is not None:
        return workspace
    run = _run_to_start_from(request)
    collection, versions, confirmed = _collection(request, run, workspace.directory, workspace.record.id, err)
    record = dataclasses.replace(workspace.record, collection=collection, versions=versions)
    return dataclasses.replace(workspace, record=record, confirmed=confirmed)


def _run_to_start_from(request: BisectRequest) -> RunRecord | None:
    """`--from-run`'s record (it must have finished collecting)."""
    run = load_run(request.cwd, request.options.from_run) if request.options.from_run else None
    if run is not None and run.collection is None:
        raise UsageError(f"run {run.id} never finished collecting; start a new `wsdoctor bisect`")
    return run


def _collection(request: BisectRequest, run: RunRecord | None, directory: Path, record_id: str,
                err: Console) -> tuple[Collection, Versions | None, tuple[PlanResult, ...]]:
    if run is not None and run.collection is not None:
        return run.collection, run.versions, ()
    options = request.options
    settings = ChildSettings.of(options, request.cwd, directory)
    if options.order_file is not None or options.randomly_seed is not None:
        err.print(f"collecting (bisect {record_id})", highlight=False)
        return (*collect_suite(Executor(settings, 1, None, one_after_another=True), options.paths), ())
    err.print(f"collecting and running the suite order up to the victim, and the victim alone (bisect {record_id})",
              highlight=False)
    return _collect_while_confirming(Executor(settings, options.workers, None, one_after_another=True), options)


def _collect_while_confirming(executor: Executor,
                              options: BisectOptions) -> tuple[Collection, Versions | None, tuple[PlanResult, ...]]:
    """One child collects the suite and runs it in its order up to the victim (with the probes),
    while another runs the victim alone: the bisect's first two trials, without a child that
    only collects."""
    victim = options.victim
    order = Plan(label="bisect: the failing order", context=Context.SUITE, collect_args=options.paths,
                 test_ids=(), state_probes=True)
    alone = Plan(label="bisect victim alone", context=Context.ALONE, collect_args=(victim.split("::", 1)[0],),
                 test_ids=(victim,))
    started = executor.start_discovering(order, until=victim)
    ahead = ThreadPoolExecutor(max_workers=1)
    halving: Future[PlanResult] | None = None
    try:
        alone_result = executor.run_plans([alone])[0]
        # With --repeat every trial runs several times, and these first ones are run again anyway.
        question = _first_halving_question(executor, started, victim) if options.repeat == 1 else None
        halving = ahead.submit(executor.run_plan, question) if question is not None else None
        ran, child, output = executor.finish_discovering(order, started)
        asked_ahead = (halving.result(),) if halving is not None else ()
    except BaseException:
        executor.kill_all()
        raise
    finally:
        ahead.shutdown(wait=True)
    collection, versions = collection_from(executor, options.paths, child, output)
    ids = list(ran.plan.test_ids)
    if victim not in ids:
        return collection, versions, ()
    upto = ids.index(victim) + 1
    in_order = dataclasses.replace(ran, plan=dataclasses.replace(ran.plan, test_ids=tuple(ids[:upto])),
                                   results=ran.results[:upto])
    return collection, versions, (in_order, alone_result, *asked_ahead)


def _first_halving_question(executor: Executor, started: LiveChild, victim: str) -> Plan | None:
    """The question a search without evidence asks first, asked now, on the core the victim's run
    alone has left free while the suite order runs on (its collection is known once the child says
    it collected). With evidence, the search asks other questions and this one was spent for nothing;
    without, the first round of halving (half the suite) is off the critical path. Not worth a child
    for a short order, nor when the collection has errors (the suite's collection is then more
    than what the child collected), nor without a second worker."""
    if executor.workers < 2:
        return None
    collected = executor.collected_by(started)
    ids = [t.nodeid for t in collected.tests] if collected is not None else []
    if collected is None or victim not in ids:
        return None
    before = ids[: ids.index(victim)]
    if len(before) < ASK_AHEAD_FROM:
        return None
    return first_halving_question(collected, victim, before)


def _resumed(request: BisectRequest) -> Workspace:
    found = newest_bisect_of(request.cwd, request.options.victim)
    if found is None:
        raise UsageError(f"no interrupted bisect of {request.options.victim} to resume; drop --resume")
    directory, record = found
    return Workspace(record=record, directory=directory, made_now=False,
                     files=FileState.capture(request.cwd, directory / FILES_LEFT))


def check_victim(victim: str, ids: Sequence[str], paths: Sequence[str]) -> None:
    if victim in ids:
        return
    near = difflib.get_close_matches(victim, ids, n=3, cutoff=0.5)
    where = f" in {' '.join(paths)}" if paths else ""
    hint = f"; did you mean {', '.join(near)}?" if near else "; `pytest --collect-only -q` lists them"
    raise UsageError(f"unknown test {victim!r}{where}{hint}")


def failing_order(request: BisectRequest, collection: Collection, executor: Executor,
                  listed: Sequence[str] = ()) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The tests to run before the victim, and what to collect for that order (``listed``: the
    --order-file's node ids, read before anything started)."""
    options = request.options
    ids = [t.nodeid for t in collection.tests]
    if options.order_file is not None:
        order = _known_order(Path(options.order_file), listed, ids)
    elif options.randomly_seed is not None:
        order = randomly_order(options, executor)
    elif options.from_run:
        return order_from_run(request, ids)
    else:
        return tuple(ids[: ids.index(options.victim)]), options.paths
    before = tuple(order[: order.index(options.victim)]) if options.victim in order else tuple(order)
    return before, files_in_order(collection, [*before, options.victim])


MAX_ORDER_FILE = 64 << 20  # bytes: a million node ids of 60 characters; more is not an order file


def read_order_file(path: Path) -> list[str]:
    """The node ids of an --order-file, one a line: read once, before anything starts (it may be a
    pipe, `--order-file <(...)`), and no more of it than an order can be (not /dev/zero)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_ORDER_FILE + 1)
    except OSError as error:
        raise UsageError(f"cannot read --order-file {path}: {error.strerror}") from None
    if len(data) > MAX_ORDER_FILE:
        raise UsageError(f"--order-file {path} is larger than {MAX_ORDER_FILE >> 20} MB: give it node ids, one a line")
    try:
        order = [line.strip() for line in data.decode("utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError as error:
        raise UsageError(f"--order-file {path} is not text (byte {error.start} is not UTF-8): give it node ids, "
                         "one a line") from None
    if not order:
        raise UsageError(f"--order-file {path} names no test: give it node ids, one a line")
    return order


def _known_order(path: Path, order: Sequence[str], ids: Sequence[str]) -> list[str]:
    known = set(ids)
    unknown = [nodeid for nodeid in order if nodeid not in known]
    if unknown:
        raise UsageError(f"--order-file {path} names {len(unknown)} test(s) that were not collected, "
                         f"first {unknown[0]!r}; regenerate it or pass the paths it came from")
    return list(order)


def randomly_order(options: BisectOptions, executor: Executor) -> list[str]:
    """The order pytest-randomly gives the suite with that seed (collected with it enabled)."""
    _, output = executor.collect(options.paths, label="collect randomly", randomly_seed=options.randomly_seed)
    if output.collected is None:
        raise UsageError(f"pytest-randomly did not order the suite with seed {options.randomly_seed}: "
                         f"install pytest-randomly for {options.python}, or use --order-file")
    return [t.nodeid for t in output.collected]


def order_from_run(request: BisectRequest, ids: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The order in which the run saw the victim fail (not alone), else the suite order."""
    victim = request.options.victim
    record = load_run(request.cwd, request.options.from_run)
    for plan_result in record.plan_results:
        result = plan_result.result_of(victim)
        if plan_result.plan.context is not Context.ALONE and result is not None and result.outcome.is_bad:
            index = plan_result.plan.test_ids.index(victim)
            return tuple(plan_result.plan.test_ids[:index]), plan_result.plan.collect_args
    return tuple(ids[: list(ids).index(victim)]), request.options.paths
