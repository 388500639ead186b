"""Records are pruned: the newest runs stay, with their bisects, and what a baseline refers to."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.conftest import make_project
from wsdoctor.analysis.gate import BaselineEntry
from wsdoctor.baseline import write_baseline
from wsdoctor.commands.clean import prune_quietly
from wsdoctor.paths import STATE_DIR
from wsdoctor.records import BisectOptions, BisectRecord, RecordStatus, RunOptions, RunRecord
from wsdoctor.store import LIVE_FOR, prune, save_record

OPTIONS = RunOptions(paths=(), pytest_args=(), python="python")


def run_id(minute: int) -> str:
    return f"20260101-00{minute:02d}00-abcd"


def recorded(project: Path, minute: int, status: RecordStatus = RecordStatus.COMPLETE,
             from_run: str | None = None) -> str:
    record_id = run_id(minute)
    directory = project / STATE_DIR / "runs" / record_id
    (directory / "children" / "0001-suite").mkdir(parents=True)
    (directory / "children" / "0001-suite" / "stdout.txt").write_text("x" * 1000)
    if from_run is None:
        save_record(directory, RunRecord(id=record_id, wsdoctor_version="0", cwd=str(project), options=OPTIONS,
                                         status=status))
    else:
        save_record(directory, BisectRecord(id=record_id, wsdoctor_version="0", cwd=str(project),
                                            options=BisectOptions(victim="t.py::v", from_run=from_run), status=status))
    return record_id


def left(project: Path) -> list[int]:
    return sorted(int(p.name[11:13]) for p in (project / STATE_DIR / "runs").iterdir())


def test_the_newest_runs_stay_with_their_bisects_and_the_oldest_go(tmp_path: Path) -> None:
    for minute in range(1, 13):
        recorded(tmp_path, minute)
    recorded(tmp_path, 20, from_run=run_id(12))  # a bisect of a kept run: not counted, kept
    recorded(tmp_path, 21, from_run=run_id(1))  # a bisect of a pruned run goes with it
    pruned = prune(tmp_path / STATE_DIR / "runs", keep=10)
    assert left(tmp_path) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 20]
    assert sorted(pruned.removed) == [run_id(1), run_id(2), run_id(21)]
    assert pruned.freed_bytes > 3000


def test_a_baselines_run_and_a_running_one_stay_an_abandoned_one_goes(tmp_path: Path) -> None:
    recorded(tmp_path, 1)  # the baseline's
    recorded(tmp_path, 2, RecordStatus.RUNNING)  # still going
    old = recorded(tmp_path, 3, RecordStatus.RUNNING)  # abandoned a day and more ago
    os.utime(tmp_path / STATE_DIR / "runs" / old / "run.json", (time.time() - LIVE_FOR - 1,) * 2)
    recorded(tmp_path, 4)
    prune(tmp_path / STATE_DIR / "runs", keep=1, protected={run_id(1)})
    assert left(tmp_path) == [1, 2, 4]


def test_a_run_prunes_to_keep_runs_and_the_baseline_protects_its_runs(tmp_path: Path) -> None:
    make_project(tmp_path, {"pyproject.toml": "[tool.wsdoctor]\nkeep_runs = 2\n"})
    for minute in range(1, 6):
        recorded(tmp_path, minute)
    write_baseline(tmp_path / "wsdoctor-baseline.yaml", [BaselineEntry("t.py::v", "flaky", "known", run=run_id(1))])
    prune_quietly(tmp_path)
    assert left(tmp_path) == [1, 4, 5]


def test_a_bad_config_leaves_the_records_alone_after_a_run(tmp_path: Path) -> None:
    make_project(tmp_path, {"pyproject.toml": "[tool.wsdoctor]\nkeep_runs = 'few'\n"})
    for minute in range(1, 13):
        recorded(tmp_path, minute)
    prune_quietly(tmp_path)
    assert len(left(tmp_path)) == 12


@pytest.mark.parametrize(("args", "kept"), [(["clean"], 10), (["clean", "--keep", "3"], 3),
                                            (["clean", "--keep", "0"], 0)])
def test_wsdoctor_clean(tmp_path: Path, args: list[str], kept: int, wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    for minute in range(1, 13):
        recorded(tmp_path, minute)
    done = wsdoctor_in_process(tmp_path, *args)
    assert done.exit_code == 0, done.stderr
    assert f"removed {12 - kept} record(s)" in done.stdout
    assert len(left(tmp_path)) == kept


def test_wsdoctor_clean_with_nothing_recorded(tmp_path: Path, wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    done = wsdoctor_in_process(tmp_path, "clean")
    assert (done.exit_code, done.stdout.strip()) == (0, "nothing recorded here or above")
