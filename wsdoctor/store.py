"""Run records on disk: .wsdoctor/runs/<id>/run.json, written atomically."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from wsdoctor.errors import UsageError
from wsdoctor.records import RunRecord, dump_json, load_record, write_atomic

STATE_DIR = ".wsdoctor"
RECORD_FILE = "run.json"
GITIGNORE = "# Created by wsdoctor automatically.\n*\n"


def create_run_dir(cwd: Path) -> tuple[str, Path]:
    state = cwd / STATE_DIR
    state.mkdir(exist_ok=True)
    ignore = state / ".gitignore"
    if not ignore.exists():
        ignore.write_text(GITIGNORE, encoding="utf-8")
    run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)
    run_dir = state / "runs" / run_id
    run_dir.mkdir(parents=True)
    return run_id, run_dir


def save_record(run_dir: Path, record: RunRecord) -> None:
    write_atomic(run_dir / RECORD_FILE, dump_json(record))


def find_run(cwd: Path, run_id: str | None = None) -> Path:
    """The record of run ``run_id``, or of the newest run, searching cwd and its parents."""
    for base in (cwd, *cwd.parents):
        runs = base / STATE_DIR / "runs"
        if not runs.is_dir():
            continue
        if run_id is not None:
            candidate = runs / run_id / RECORD_FILE
            if candidate.exists():
                return candidate
            raise UsageError(f"no run {run_id!r} in {runs}; `ls {runs}` lists the recorded runs")
        records = sorted(runs.glob(f"*/{RECORD_FILE}"))
        if records:
            return records[-1]
    raise UsageError("no wsdoctor run is recorded here or above; start one with `wsdoctor run`")


def load_run(cwd: Path, run_id: str | None = None) -> RunRecord:
    path = find_run(cwd, run_id)
    try:
        return load_record(path)
    except (ValueError, KeyError, TypeError) as error:
        raise UsageError(f"{path} is not a readable wsdoctor record ({type(error).__name__}: {error}); "
                         "run `wsdoctor run` again or remove that directory") from None
