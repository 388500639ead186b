"""`wsdoctor merge RECORD...`: the shards' run records (each `wsdoctor ci --shard K/N`'s) as one
record, one report and one gate decision, saying where the split separated a polluter from its
victim or made an order the whole suite never runs."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from wsdoctor import __version__
from wsdoctor.analysis.shards import Shard, duplicated_tests, merge_runs, parse_shard, split_notes
from wsdoctor.codec import from_jsonable
from wsdoctor.commands.ci_request import CiOutputs, GateSettings, check_outputs
from wsdoctor.commands.ci_session import CI_FILE, Gate, publish
from wsdoctor.exits import ExitCode, UsageError
from wsdoctor.paths import shown_path
from wsdoctor.records import CiRecord, RecordStatus, RunRecord
from wsdoctor.store import RECORD_FILE, create_record_dir, load_record, save_record


@dataclass(frozen=True, slots=True)
class MergeRequest:
    cwd: Path
    records: tuple[Path, ...]  # run.json files, their directories, or directories holding them
    gate: GateSettings
    outputs: CiOutputs
    previous: Path | None = None  # an earlier record whose bisects know polluter/victim pairs


@dataclass(frozen=True, slots=True)
class _Loaded:
    path: Path
    record: RunRecord
    ci: CiRecord | None


def merge_command(request: MergeRequest, out: Console) -> ExitCode:
    gate = Gate.read(request.cwd, request.gate)
    check_outputs(request.outputs, request.cwd)
    loaded = sorted(_load_all(request.records, request.cwd), key=_shard_index)
    _check_shards(loaded, request.cwd)
    shards = [Shard(label=item.ci.shard if item.ci and item.ci.shard else item.record.id, record=item.record)
              for item in loaded]
    overlap = duplicated_tests(shards)
    if overlap:
        nodeid, labels = next(iter(overlap.items()))
        raise UsageError(f"{len(overlap)} test(s) are in more than one record, first {nodeid} (shards "
                         f"{', '.join(labels)}): merge the records of one pipeline's shards")
    suite_files = next((item.ci.suite_files for item in loaded if item.ci and item.ci.suite_files), ())
    run_id, run_dir = create_record_dir(request.cwd)
    merged = merge_runs(shards, run_id, str(request.cwd), time.time(), suite_files)
    known = _known_polluters(merged, gate, request.previous)
    notes = tuple(split_notes(shards, merged, known))
    save_record(run_dir, merged)
    first_ci = next((item.ci for item in loaded if item.ci), None)
    ci = CiRecord(run_id=run_id, seed=first_ci.seed if first_ci else None,
                  seed_source=first_ci.seed_source if first_ci else "", suite_files=suite_files,
                  not_bisected=tuple(v for item in loaded if item.ci for v in item.ci.not_bisected),
                  merged_from=tuple(shown_path(item.path, request.cwd) for item in loaded), notes=notes)
    out.print(f"wsdoctor {__version__} · merged {len(loaded)} record(s) ({', '.join(s.label for s in shards)}) "
              f"into run {run_id}", highlight=False)
    for note in notes:
        out.print(f"note: {escape(note)}", highlight=False, soft_wrap=True)
    return publish(merged, run_dir, ci, gate, request.outputs, out)


def _load_all(paths: Sequence[Path], cwd: Path) -> list[_Loaded]:
    files = [file for path in paths for file in _record_files(path)]
    if not files:
        raise UsageError("no run records given: pass each shard's run.json, its directory, or a directory holding them")
    loaded = []
    for file in dict.fromkeys(files):
        record = load_record(file)
        if not isinstance(record, RunRecord):
            raise UsageError(f"{file} is a {record.kind.value}, not a run")
        if record.status is not RecordStatus.COMPLETE:
            raise UsageError(f"{shown_path(file, cwd)} is {record.status.value}: its tests have no verdicts, and a "
                             "gate must not pass on tests that did not run; run that shard again")
        loaded.append(_Loaded(path=file, record=record, ci=_ci_of(file)))
    return loaded


def _shard_index(item: _Loaded) -> int:
    spec = parse_shard(item.ci.shard) if item.ci and item.ci.shard else None
    return spec.index if spec else 0


def _record_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if (path / RECORD_FILE).is_file():
        return [path / RECORD_FILE]
    if path.is_dir():
        return sorted(path.glob(f"**/{RECORD_FILE}"))
    raise UsageError(f"no such record: {path}")


def _ci_of(record_file: Path) -> CiRecord | None:
    path = record_file.parent / CI_FILE
    if not path.exists():
        return None
    try:
        ci: CiRecord = from_jsonable(CiRecord, json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise UsageError(f"{path} is not readable ({type(error).__name__}: {error}); remove it or run the "
                         "shard again") from None
    return ci


def _check_shards(loaded: Sequence[_Loaded], cwd: Path) -> None:
    """Shards of one split, each once, none missing: a missing shard's tests never ran."""
    specs = [(item, parse_shard(item.ci.shard)) for item in loaded if item.ci and item.ci.shard]
    if not specs:
        return
    counts = {spec.count for _, spec in specs if spec}
    if len(counts) > 1:
        raise UsageError(f"the records come from different splits ({', '.join(f'N={n}' for n in sorted(counts))}); "
                         "merge the shards of one pipeline")
    count = counts.pop()
    seen: dict[int, Path] = {}
    for item, spec in specs:
        if spec is None:
            continue
        if spec.index in seen:
            raise UsageError(f"shard {spec} is given twice: {shown_path(seen[spec.index], cwd)} and "
                             f"{shown_path(item.path, cwd)}")
        seen[spec.index] = item.path
    missing = [f"{index}/{count}" for index in range(1, count + 1) if index not in seen]
    if missing:
        raise UsageError(f"shard(s) {', '.join(missing)} missing: their tests would not be gated; pass every "
                         "shard's record")


def _known_polluters(merged: RunRecord, gate: Gate, previous: Path | None) -> dict[str, tuple[str, ...]]:
    """Victim -> polluters, from the shards' bisects, the baseline, and an earlier record."""
    known: dict[str, tuple[str, ...]] = {}
    if previous is not None:
        earlier = load_record(previous / RECORD_FILE if previous.is_dir() else previous)
        if isinstance(earlier, RunRecord):
            known.update({b.victim: b.polluters for b in earlier.bisects if b.polluters})
    known.update({entry.test: entry.polluters for entry in gate.baseline if entry.polluters})
    known.update({b.victim: b.polluters for b in merged.bisects if b.polluters})
    return known
