"""`wsdoctor clean`, and the pruning after every run: keep the last runs and what is referred to."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from wsdoctor.baseline import BASELINE_FILE, read_baseline
from wsdoctor.config import load_config
from wsdoctor.exits import ExitCode, UsageError
from wsdoctor.paths import shown_path
from wsdoctor.store import Pruned, prune, records_dir


def prune_records(cwd: Path, keep: int | None = None, baseline: Path | None = None) -> Pruned | None:
    """Prune .wsdoctor/runs to ``keep`` runs (default: [tool.wsdoctor] keep_runs), never the runs
    the baseline's entries were accepted from; None when there is nothing recorded."""
    runs = records_dir(cwd)
    if runs is None:
        return None
    config = load_config(cwd)
    path = baseline or config.baseline or config.root / BASELINE_FILE
    protected = {entry.run for entry in read_baseline(path) if entry.run}
    return prune(runs, config.keep_runs if keep is None else keep, protected)


def prune_quietly(cwd: Path) -> None:
    """After a run: prune, unless the configuration or the baseline cannot be read (the run's
    result stands; the next `wsdoctor clean` says what is wrong)."""
    try:
        prune_records(cwd)
    except UsageError:
        return


def clean_command(cwd: Path, keep: int | None, baseline: Path | None, out: Console) -> ExitCode:
    pruned = prune_records(cwd, keep, baseline)
    if pruned is None:
        out.print("nothing recorded here or above", highlight=False)
        return ExitCode.OK
    runs = records_dir(cwd)
    where = shown_path(runs, cwd) if runs else ".wsdoctor/runs"
    out.print(f"{where}: removed {len(pruned.removed)} record(s), {pruned.freed_bytes / 1e6:.1f} MB; "
              f"kept {len(pruned.kept)}", highlight=False)
    return ExitCode.OK
