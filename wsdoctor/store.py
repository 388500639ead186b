"""Records on disk: .wsdoctor/runs/<id>/ holds one record, run.json (a run) or bisect.json (a bisect).

Records are ordered by when they were created (recorded in them), not by their ids: an id
names the second it was made in, and two made in the same second sort by their random tail.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from wsdoctor.codec import ShapeError, dump_json, from_jsonable, read_bounded, write_atomic, write_text
from wsdoctor.exits import UsageError
from wsdoctor.paths import PACKAGE_REFERENCE, PACKAGES_DIR, STATE_DIR
from wsdoctor.records import (
    RECORD_SCHEMA,
    BisectRecord,
    FixResult,
    Owner,
    Record,
    RecordKind,
    RecordStatus,
    RunRecord,
)

RECORD_FILES = {RecordKind.RUN: "run.json", RecordKind.BISECT: "bisect.json"}
RECORD_FILE = RECORD_FILES[RecordKind.RUN]
FIX_FILE = "fix.json"  # beside the bisect's record: what `report` shows as the proven Solution
GITIGNORE = "# Created by wsdoctor automatically.\n*\n"
EVERY_KIND = frozenset(RecordKind)
_STAMP = len("20260101-000000")  # the part of an id that names its second
MAX_RECORD = 1 << 30  # bytes: a record (or a file named as one, --durations-from /dev/zero) is read whole
_NOT_FOUND = {
    frozenset({RecordKind.RUN}): "no wsdoctor run is recorded here or above; start one with `wsdoctor run`",
    frozenset({RecordKind.BISECT}): "no wsdoctor bisect is recorded here or above",
    EVERY_KIND: "no wsdoctor run or bisect is recorded here or above; start one with `wsdoctor run`",
}


def create_record_dir(cwd: Path) -> tuple[str, Path]:
    state = cwd / STATE_DIR
    state.mkdir(exist_ok=True)
    ignore = state / ".gitignore"
    if not ignore.exists():
        write_text(ignore, GITIGNORE)
    record_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)
    record_dir = state / "runs" / record_id
    record_dir.mkdir(parents=True)
    return record_id, record_dir


def save_record(record_dir: Path, record: Record) -> None:
    write_atomic(record_dir / RECORD_FILES[record.kind], dump_json(record))


def save_ending(record_dir: Path, record: Record) -> None:
    """Save how a command ended. One that ends on an error (a full disk, say) is reported by that
    error: failing to save it again must not hide it."""
    try:
        save_record(record_dir, record)
    except OSError:
        if record.status is RecordStatus.COMPLETE:
            raise


def records_dir(cwd: Path) -> Path | None:
    """.wsdoctor/runs in cwd or the nearest of its parents that has one."""
    return next((base / STATE_DIR / "runs" for base in (cwd, *cwd.parents)
                 if (base / STATE_DIR / "runs").is_dir()), None)


def find_record(cwd: Path, record_id: str | None = None, kinds: Collection[RecordKind] = EVERY_KIND) -> Path:
    """The file of record ``record_id``, or of the newest record of one of ``kinds``."""
    runs = records_dir(cwd)
    wanted = frozenset(kinds)
    if runs is None:
        raise UsageError(_NOT_FOUND[wanted])
    if record_id is None:
        newest = newest_record(runs, wanted)
        if newest is None:
            raise UsageError(_NOT_FOUND[wanted])
        return newest
    return _record_file(runs, record_id, wanted)


def _record_file(runs: Path, record_id: str, kinds: frozenset[RecordKind]) -> Path:
    for kind, name in RECORD_FILES.items():
        path = runs / record_id / name
        if path.exists():
            if kind not in kinds:
                raise UsageError(f"{record_id} is a {kind.value}, not a {' or '.join(k.value for k in kinds)}")
            return path
    raise UsageError(f"no record {record_id!r} in {runs}; `ls {runs}` lists the recorded ones")


def newest_record(runs: Path, kinds: Collection[RecordKind] = EVERY_KIND) -> Path | None:
    """The newest record file of these kinds; same-second ids are told apart by their creation time."""
    candidates = [path for kind in kinds for path in runs.glob(f"*/{RECORD_FILES[kind]}")]
    if not candidates:
        return None
    last_second = max(path.parent.name[:_STAMP] for path in candidates)
    latest = [path for path in candidates if path.parent.name[:_STAMP] == last_second]
    if len(latest) == 1:
        return latest[0]
    return max(latest, key=lambda path: load_record(path).created)


def this_process() -> Owner:
    """This wsdoctor process, as the owner of the records it writes."""
    return Owner(pid=os.getpid(), started=_start_time(os.getpid()))


def owner_alive(owner: Owner) -> bool:
    """Whether the process that writes a record still runs (the same process, not a reused pid)."""
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, and someone else's: not the owner
        return False
    return not owner.started or _start_time(owner.pid) == owner.started


def _start_time(pid: int) -> int:
    """Field 22 of /proc/PID/stat, after the command name (which may hold spaces); 0 where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return 0


def load_record(path: Path) -> Record:
    """A record, or a one-line error naming the file when it cannot be read. A record still running
    whose wsdoctor is gone (killed, or the machine restarted) is read as abandoned."""
    try:
        text = read_bounded(path, MAX_RECORD, json_object=True)
    except (OSError, UnicodeDecodeError) as error:
        raise _unreadable(path, f"{type(error).__name__}: {error}") from None
    except ValueError as error:  # not a JSON object, or larger than a record can be
        raise _unreadable(path, str(error)) from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise _unreadable(path, f"{type(error).__name__}: {error}") from None
    if not isinstance(data, dict):
        raise _unreadable(path, "not a JSON object")
    if data.get("schema") != RECORD_SCHEMA:
        raise UsageError(f"{path} was written by another wsdoctor version (record schema {data.get('schema', 1)}, "
                         f"this one reads {RECORD_SCHEMA}); {_what_to_do(path)}")
    kind = RunRecord if path.name == RECORD_FILES[RecordKind.RUN] else BisectRecord
    try:
        record: Record = from_jsonable(kind, data)
    except ShapeError as error:
        raise _unreadable(path, str(error)) from None
    if record.status is RecordStatus.RUNNING and (record.owner is None or not owner_alive(record.owner)):
        return dataclasses.replace(record, status=RecordStatus.ABANDONED)
    return record


def _unreadable(path: Path, why: str) -> UsageError:
    return UsageError(f"{path} is not a readable wsdoctor record ({why}); {_what_to_do(path)}")


def _what_to_do(path: Path) -> str:
    """A record in wsdoctor's own records can go; any other file (--durations-from /dev/null) is the
    user's, and so is the directory it is in."""
    if path.parent.parent.name == "runs" and path.parent.parent.parent.name == STATE_DIR:
        return f"remove {path.parent} or record it again"
    return "give a run.json or bisect.json that wsdoctor wrote (in .wsdoctor/runs/<id>/)"


def load_run(cwd: Path, run_id: str | None = None) -> RunRecord:
    """Run ``run_id``, or the newest run (bisects are not runs)."""
    record = load_record(find_record(cwd, run_id, (RecordKind.RUN,)))
    assert isinstance(record, RunRecord)  # run.json holds a run
    return record


def bisects_from(runs: Path, run_id: str) -> list[BisectRecord]:
    """The bisects started from run ``run_id`` (`run --bisect`, `bisect --from-run`), oldest first."""
    found = [record for path in runs.glob(f"*/{RECORD_FILES[RecordKind.BISECT]}")
             for record in [load_record(path)]
             if isinstance(record, BisectRecord) and record.options.from_run == run_id]
    return sorted(found, key=lambda record: record.created)


def newest_bisect_of(cwd: Path, victim: str) -> tuple[Path, BisectRecord] | None:
    """The newest bisect of ``victim``, and its directory (for `bisect --resume`)."""
    runs = records_dir(cwd)
    found = [(path.parent, record) for path in (runs.glob(f"*/{RECORD_FILES[RecordKind.BISECT]}") if runs else ())
             for record in [load_record(path)]
             if isinstance(record, BisectRecord) and record.options.victim == victim]
    return max(found, key=lambda item: item[1].created, default=None)


# --- pruning ----------------------------------------------------------------------------------

LIVE_FOR = 24 * 3600.0  # a record still `running` this long after its last write was abandoned
_HEAD = 4096  # the status comes before the bulk of a record: id, version, cwd, options, status


@dataclass(frozen=True, slots=True)
class Pruned:
    removed: tuple[str, ...]
    kept: tuple[str, ...]
    freed_bytes: int


def prune(runs: Path, keep: int, protected: Collection[str] = (), now: float | None = None) -> Pruned:
    """Remove all but the newest ``keep`` runs (and bisects of their own), never one that is
    ``protected`` (a baseline's), still running, or referred to by a record that stays: a run and
    the bisects started from it are reported together, so they stay or go together."""
    now = time.time() if now is None else now
    ids = sorted((d.name for d in runs.iterdir() if d.is_dir()), reverse=True)  # newest first: ids start with the time
    links = [(bisect, run) for bisect, run in _bisect_links(runs) if run in ids]
    followers = {bisect for bisect, _ in links}  # counted with their run, not on their own
    counted = [i for i in ids if i not in followers]
    kept = set(counted[:keep]) | (set(protected) & set(ids)) | {i for i in ids if _running(runs / i, now)}
    changed = True
    while changed:  # a bisect keeps its run, a run keeps its bisects
        before = len(kept)
        kept |= {run for bisect, run in links if bisect in kept}
        kept |= {bisect for bisect, run in links if run in kept}
        changed = len(kept) != before
    removed = [i for i in ids if i not in kept]
    freed = sum(_size(runs / i) for i in removed)
    for record_id in removed:
        shutil.rmtree(runs / record_id, ignore_errors=True)
    freed += _prune_packages(runs.parent / PACKAGES_DIR, runs, now)
    return Pruned(removed=tuple(removed), kept=tuple(i for i in ids if i in kept), freed_bytes=freed)


def _prune_packages(packages: Path, runs: Path, now: float) -> int:
    """Remove the staged child packages that no record names and that were not used lately (a
    wsdoctor names the one it staged in its record a moment later; one staging it has not renamed
    it yet); the bytes freed."""
    if not packages.is_dir():
        return 0
    named = {_package_named(path) for path in runs.glob(f"*/{PACKAGE_REFERENCE}")}
    unused = [d for d in packages.iterdir() if d.name not in named and now - _modified(d, now) >= LIVE_FOR]
    freed = sum(_size(directory) for directory in unused)
    for directory in unused:
        shutil.rmtree(directory, ignore_errors=True)
    return freed


def _modified(path: Path, now: float) -> float:
    """When ``path`` was last changed; ``now`` when it is gone (renamed into place, or removed)."""
    try:
        return path.stat().st_mtime
    except OSError:
        return now


def _package_named(reference: Path) -> str:
    try:
        return reference.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _running(directory: Path, now: float) -> bool:
    for name in RECORD_FILES.values():
        path = directory / name
        if path.exists():
            with path.open("rb") as handle:
                head = handle.read(_HEAD)
            return b'"status": "running"' in head and now - path.stat().st_mtime < LIVE_FOR
    return now - directory.stat().st_mtime < LIVE_FOR  # no record yet: one being made right now


def _bisect_links(runs: Path) -> list[tuple[str, str]]:
    """(bisect id, the run it started from) for every bisect (small files: read whole)."""
    links = []
    for path in runs.glob(f"*/{RECORD_FILES[RecordKind.BISECT]}"):
        try:
            from_run = json.loads(path.read_text(encoding="utf-8")).get("options", {}).get("from_run")
        except (OSError, ValueError, AttributeError):
            continue  # unreadable: it carries no link; it goes when it is old enough
        if from_run:
            links.append((path.parent.name, str(from_run)))
    return links


def _size(directory: Path) -> int:
    return sum(f.stat().st_size for f in directory.rglob("*") if f.is_file() and not f.is_symlink())


def load_fix(directory: Path) -> FixResult | None:
    """The fix recorded beside a bisect, if any; one that cannot be read is a one-line error (exit 2)."""
    path = directory / FIX_FILE
    if not path.is_file():
        return None
    try:
        result: FixResult = from_jsonable(FixResult, json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, RecursionError) as error:  # ShapeError is a ValueError
        raise UsageError(f"{path} is not a readable wsdoctor fix ({error}); remove it or run `wsdoctor fix` "
                         "again") from None
    return result
