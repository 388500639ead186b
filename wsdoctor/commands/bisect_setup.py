"""Setting up a bisect: the request, the victim, the failing order, and where it is recorded."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from wsdoctor.collect import collect_suite
from wsdoctor.errors import UsageError
from wsdoctor.execution.child import ChildSettings
from wsdoctor.execution.pool import Executor
from wsdoctor.planner import files_in_order
from wsdoctor.records import Collection, Context, RunOptions, RunRecord
from wsdoctor.store import create_run_dir, find_run, load_run, save_record


@dataclass(frozen=True, slots=True)
class BisectRequest:
    victim: str
    cwd: Path
    paths: tuple[str, ...] = ()
    pytest_args: tuple[str, ...] = ()
    python: str = "python"
    python_given: bool = False
    workers: int = 2
    timeout: float = 60.0
    budget: float = 600.0
    repeat: int = 1
    from_run: str | None = None
    order_file: Path | None = None
    randomly_seed: int | None = None
    json_path: Path | None = None
    resume: bool = False



def run_dir_and_collection(request: BisectRequest, err: Console) -> tuple[Path, Collection]:
    if request.resume or request.from_run:
        record = load_run(request.cwd, request.from_run) if request.from_run else resumable_run(request)
        if record.collection is None:
            raise UsageError(f"run {record.id} never finished collecting; start a new `wsdoctor bisect`")
        return find_run(request.cwd, record.id).parent, record.collection
    run_id, run_dir = create_run_dir(request.cwd)
    err.print(f"collecting (run {run_id})", highlight=False)
    settings = ChildSettings(python=request.python, cwd=request.cwd, pytest_args=request.pytest_args,
                             timeout=request.timeout, artifacts=run_dir)
    collection, _ = collect_suite(Executor(settings, 1, None), request.paths)
    options = RunOptions(paths=request.paths, pytest_args=request.pytest_args, python=request.python)
    save_record(run_dir, RunRecord(id=run_id, wsdoctor_version="", cwd=str(request.cwd), options=options,
                                   status="bisect", collection=collection))
    return run_dir, collection


def resumable_run(request: BisectRequest) -> RunRecord:
    runs = sorted(request.cwd.glob(f".wsdoctor/runs/*/bisect-{slug(request.victim)}.jsonl"))
    if not runs:
        raise UsageError(f"no interrupted bisect of {request.victim} to resume; drop --resume")
    return load_run(request.cwd, runs[-1].parent.name)


def check_victim(victim: str, ids: Sequence[str], paths: Sequence[str]) -> None:
    if victim in ids:
        return
    near = difflib.get_close_matches(victim, ids, n=3, cutoff=0.5)
    where = f" in {' '.join(paths)}" if paths else ""
    hint = f"; did you mean {', '.join(near)}?" if near else "; `pytest --collect-only -q` lists them"
    raise UsageError(f"unknown test {victim!r}{where}{hint}")


def failing_order(request: BisectRequest, collection: Collection, executor: Executor,
                   run_dir: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The tests to run before the victim, and what to collect for that order."""
    ids = [t.nodeid for t in collection.tests]
    if request.order_file is not None:
        order = read_order_file(request.order_file, ids)
    elif request.randomly_seed is not None:
        order = randomly_order(request, executor)
    elif request.from_run:
        return order_from_run(request, ids)
    else:
        return tuple(ids[: ids.index(request.victim)]), request.paths
    before = tuple(order[: order.index(request.victim)]) if request.victim in order else tuple(order)
    return before, files_in_order(collection, [*before, request.victim])


def read_order_file(path: Path, ids: Sequence[str]) -> list[str]:
    try:
        order = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError as error:
        raise UsageError(f"cannot read --order-file {path}: {error.strerror}") from None
    known = set(ids)
    unknown = [nodeid for nodeid in order if nodeid not in known]
    if unknown:
        raise UsageError(f"--order-file {path} names {len(unknown)} test(s) that were not collected, "
                         f"first {unknown[0]!r}; regenerate it or pass the paths it came from")
    return order


def randomly_order(request: BisectRequest, executor: Executor) -> list[str]:
    """The order pytest-randomly gives the suite with that seed (collected with it enabled)."""
    _, output = executor.collect(request.paths, label="collect randomly",
                                     randomly_seed=request.randomly_seed)
    if output.collected is None:
        raise UsageError(f"pytest-randomly did not order the suite with seed {request.randomly_seed}: "
                         f"install pytest-randomly for {request.python}, or use --order-file")
    return [t.nodeid for t in output.collected]


def order_from_run(request: BisectRequest, ids: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    record = load_run(request.cwd, request.from_run)
    for run in record.plan_results:
        result = run.result_of(request.victim)
        if run.plan.context is not Context.ALONE and result is not None and result.outcome.is_bad:
            index = run.plan.test_ids.index(request.victim)
            return tuple(run.plan.test_ids[:index]), run.plan.collect_args
    return tuple(ids[: list(ids).index(request.victim)]), request.paths


def slug(nodeid: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in nodeid).strip("-")[:120]

