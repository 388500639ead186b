"""What `wsdoctor ci` and `wsdoctor merge` were asked: the gate's settings and what to write."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wsdoctor.analysis.gate import DEFAULT_FAIL_ON
from wsdoctor.baseline import BASELINE_FILE
from wsdoctor.commands.request import Request, check_output_directory, check_output_file
from wsdoctor.records import RunOptions

if TYPE_CHECKING:
    from wsdoctor.analysis.shards import ShardSpec


@dataclass(frozen=True, slots=True)
class CiOutputs:
    """What to write besides the record, and what the CI environment asks for."""

    junit: Path | None = None
    summary: Path | None = None  # --summary FILE
    reports: Path | None = None  # the insight reports' directory (default: in the record)
    step_summary: Path | None = None  # $GITHUB_STEP_SUMMARY
    annotations: bool = False  # GITHUB_ACTIONS=true: workflow commands on standard output


@dataclass(frozen=True, slots=True)
class GateSettings:
    fail_on: tuple[str, ...] = DEFAULT_FAIL_ON
    baseline: Path = Path(BASELINE_FILE)
    baseline_named: bool = False  # given by --baseline or the config: it must exist
    playbook_dirs: tuple[Path, ...] = ()
    today: datetime.date | None = None  # None: today


@dataclass(frozen=True, slots=True)
class CiRequest(Request[RunOptions]):
    seed: int | None = None  # --seed; None: from the CI run's id, else by chance
    budget: float | None = 600.0  # seconds for every bisect together; None: each bisect's own default
    budget_runs: int | None = None  # child runs for every bisect together
    shard: ShardSpec | None = None
    durations_from: Path | None = None  # a previous run record: shards balanced by its durations
    gate: GateSettings = GateSettings()
    outputs: CiOutputs = CiOutputs()
    environment: Mapping[str, str] = dataclasses.field(default_factory=dict)


def check_outputs(outputs: CiOutputs, cwd: Path) -> None:
    """Files are written at the end: what cannot take them is found now, not after the run."""
    for option, path in (("--junit", outputs.junit), ("--summary", outputs.summary)):
        if path is not None:
            check_output_file(path, option, cwd)
    if outputs.reports is not None:
        check_output_directory(outputs.reports, "--reports", cwd)
