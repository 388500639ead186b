"""`wsdoctor baseline update`: accept the last run's findings in the baseline file."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from wsdoctor.analysis.gate import findings_of, scope_of, updated_baseline
from wsdoctor.baseline import read_baseline, write_baseline
from wsdoctor.exits import ExitCode, UsageError
from wsdoctor.paths import shown_path
from wsdoctor.records import RecordStatus, RunRecord
from wsdoctor.store import bisects_from, load_run, records_dir


@dataclass(frozen=True, slots=True)
class BaselineRequest:
    cwd: Path
    path: Path  # the baseline file
    fail_on: tuple[str, ...]
    reason: str
    expires: datetime.date | None = None
    run_id: str | None = None  # default: the newest run


def default_reason(today: datetime.date) -> str:
    return f"accepted by `wsdoctor baseline update` on {today.isoformat()}: say why it is acceptable"


def update_baseline(request: BaselineRequest, out: Console) -> ExitCode:
    record = load_run(request.cwd, request.run_id)
    if record.status is not RecordStatus.COMPLETE:
        raise UsageError(f"run {record.id} is {record.status.value}: it has no verdicts to accept; "
                         "run `wsdoctor ci` (or `wsdoctor run`) to its end first")
    existing = read_baseline(request.path)
    update = updated_baseline(existing, findings_of(record), request.fail_on, scope_of(record), request.reason,
                              request.expires, polluters_by_victim(record, request.cwd), run=record.id)
    write_baseline(request.path, update.entries)
    shown = shown_path(request.path, request.cwd)
    out.print(f"baseline {escape(shown)}: {len(update.entries)} accepted finding(s) from run {record.id} "
              f"({len(update.added)} new, {len(update.removed)} removed as fixed)", highlight=False)
    for entry in update.added:
        out.print(f"  + {entry.verdict} {escape(entry.test)}" + (f" ({escape(entry.state)})" if entry.state else ""),
                  highlight=False, soft_wrap=True)
    for entry in update.removed:
        out.print(f"  - fixed: {entry.verdict} {escape(entry.test)}", highlight=False, soft_wrap=True)
    if update.added:
        out.print(f"edit the reasons in {escape(shown)} and commit it", highlight=False)
    return ExitCode.OK


def polluters_by_victim(record: RunRecord, cwd: Path) -> dict[str, tuple[str, ...]]:
    """What the run's bisects (and bisects started from it later) found to break each victim."""
    runs = records_dir(cwd)
    later = [b.result for b in bisects_from(runs, record.id) if b.result is not None] if runs else []
    return {result.victim: result.polluters for result in (*record.bisects, *later) if result.polluters}
