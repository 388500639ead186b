"""`wsdoctor ci`: gate a build. The run's machinery (the suite order and one shuffled order, with
the audit's probes; second looks), bisects of the new order-dependent victims within --budget,
playbooks, then the gate against the baseline, and what CI systems read (JUnit XML, the job's
Markdown summary, GitHub annotations). `wsdoctor merge` publishes a merged record the same way.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import secrets
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from wsdoctor.analysis.gate import DEFAULT_FAIL_ON, BaselineEntry, GateReport, decide, findings_of, scope_of
from wsdoctor.analysis.insights import insights_for, versions_map
from wsdoctor.analysis.shards import ShardSpec, shard_collection, shard_files, suite_files, test_durations
from wsdoctor.baseline import BASELINE_FILE, read_baseline
from wsdoctor.codec import dump_json, write_atomic
from wsdoctor.collect import collect_suite
from wsdoctor.commands.clean import prune_quietly
from wsdoctor.commands.report import load_playbooks
from wsdoctor.commands.request import Request
from wsdoctor.commands.run_start import Consoles, RunRequest, start_run
from wsdoctor.evidence import from_run
from wsdoctor.exits import ExitCode, UsageError
from wsdoctor.paths import shown_path
from wsdoctor.playbook import Playbook
from wsdoctor.records import CiRecord, RecordStatus, RunOptions, RunRecord, Verdict
from wsdoctor.render.ci_summary import github_annotations, render_gate, summary_markdown
from wsdoctor.render.junit import junit_xml
from wsdoctor.render.report import write_markdown
from wsdoctor.store import RECORD_FILE, load_record, save_record

if TYPE_CHECKING:
    from wsdoctor.commands.run_session import RunSession

CI_FILE = "ci.json"
REPORT_DIR = "report"
# Where CI systems say which pipeline this is: the seed of the shuffled order follows it, so it
# differs between pipelines and is the same for every shard of one pipeline.
CI_RUN_IDS = (("GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT"), ("CI_PIPELINE_ID",), ("BUILDKITE_BUILD_ID",),
              ("CIRCLE_WORKFLOW_ID",), ("BUILD_TAG",), ("BUILD_BUILDID",), ("TRAVIS_BUILD_ID",))


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
    budget: float = 600.0  # for every bisect together
    shard: ShardSpec | None = None
    durations_from: Path | None = None  # a previous run record: shards balanced by its durations
    gate: GateSettings = GateSettings()
    outputs: CiOutputs = CiOutputs()
    environment: Mapping[str, str] = dataclasses.field(default_factory=dict)


def seed_of(given: int | None, environment: Mapping[str, str]) -> tuple[int, str]:
    """The shuffled order's seed and where it came from."""
    if given is not None:
        return given, "--seed"
    for names in CI_RUN_IDS:
        if environment.get(names[0]):
            value = "/".join(environment.get(name, "") for name in names)
            digest = hashlib.sha256(value.encode()).hexdigest()
            return int(digest[:8], 16), f"from {names[0]} {value}"
    return secrets.randbelow(2**32), "chosen at random: no CI run id in the environment"


def ci_command(request: CiRequest, consoles: Consoles) -> ExitCode:
    gate = Gate.read(request.cwd, request.gate)
    durations = test_durations(_previous_run(request.durations_from)) if request.durations_from else {}
    _check_outputs(request.outputs)
    seed, source = seed_of(request.seed, request.environment)
    options = dataclasses.replace(request.options, shuffle=seed, audit=True, bisect=False)
    start = start_run(RunRequest(options=options, cwd=request.cwd, python_given=request.python_given))
    try:
        from wsdoctor.commands.run_session import RunSession, execute_to_verdicts
        from wsdoctor.render.progress import ProgressUI

        out, err = consoles()
        session = RunSession(start, ProgressUI(err))
        session.ui.note(f"shuffled order: seed {seed} ({source}); `wsdoctor ci --seed {seed}` repeats it")
        taken = _ShardTaken()
        stopped = execute_to_verdicts(session, err, _sharding(request, durations, taken))
        if stopped is not None:
            return stopped
        left_out = session.bisect_victims(err, _new_victims(session.record, gate.baseline), request.budget)
        ci = CiRecord(run_id=session.record.id, seed=seed, seed_source=source,
                      shard=str(request.shard) if request.shard else None,
                      files=taken.files, suite_files=taken.suite_files, not_bisected=left_out)
        code = publish(session.record, start.run_dir, ci, gate, request.outputs, out)
        prune_quietly(request.cwd)
        return code
    except KeyboardInterrupt:
        record_file = start.run_dir / RECORD_FILE
        if not record_file.exists():
            save_record(start.run_dir, dataclasses.replace(start.record, status=RecordStatus.INTERRUPTED))
        sys.stderr.write(f"interrupted: kept what was recorded in {shown_path(record_file, request.cwd)}\n")
        return ExitCode.INTERRUPTED
    finally:
        start.executor.kill_all()


@dataclass(slots=True)
class _ShardTaken:
    files: tuple[str, ...] = ()
    suite_files: tuple[str, ...] = ()  # the whole suite's, in its order: merge restores it


def _sharding(request: CiRequest, durations: Mapping[str, float],
              taken: _ShardTaken) -> Callable[[RunSession], None] | None:
    """Before the run collects: collect the whole suite, keep this shard's files."""
    spec = request.shard
    if spec is None:
        return None

    def take_shard(session: RunSession) -> None:
        full, versions = collect_suite(session.executor, session.request.options.paths)
        files = shard_files(full, spec, durations)
        taken.files, taken.suite_files = files, suite_files(full)
        session.ui.note(f"shard {spec}: {len(files)} of the suite's {len(taken.suite_files)} file(s)"
                        + (" (balanced by recorded durations)" if durations else " (balanced by test counts)"))
        narrowed = dataclasses.replace(session.request.options, paths=files)
        session.request = dataclasses.replace(session.request, options=narrowed)
        session.record = dataclasses.replace(session.record, options=narrowed)
        session.use_collection(shard_collection(full, files), versions)

    return take_shard


def _new_victims(record: RunRecord, baseline: Sequence[BaselineEntry]) -> list[str]:
    """Order-dependent tests the baseline does not accept: each is bisected."""
    accepted = {entry.key for entry in baseline}
    return [v.nodeid for v in record.findings() if v.verdict is Verdict.ORDER_DEPENDENT and "::" in v.nodeid
            and (v.nodeid, v.verdict.value, "") not in accepted]


def _previous_run(path: Path) -> RunRecord:
    file = path / RECORD_FILE if path.is_dir() else path
    if not file.exists():
        raise UsageError(f"--durations-from {path}: no run record there (give a run.json or its directory)")
    record = load_record(file)
    if not isinstance(record, RunRecord):
        raise UsageError(f"--durations-from {path} is a {record.kind.value}, not a run")
    return record


def _check_outputs(outputs: CiOutputs) -> None:
    """Files are written at the end: a directory that is missing is found now, not after the run."""
    for option, path in (("--junit", outputs.junit), ("--summary", outputs.summary)):
        if path is not None and not path.parent.is_dir():
            raise UsageError(f"{option} {path}: the directory {path.parent} does not exist")


@dataclass(frozen=True, slots=True)
class Gate:
    """The gate, ready: its settings, the baseline and playbooks read (bad input found early)."""

    cwd: Path
    settings: GateSettings
    baseline: Sequence[BaselineEntry]
    playbooks: Sequence[Playbook]

    @classmethod
    def read(cls, cwd: Path, settings: GateSettings) -> Gate:
        baseline = read_baseline(settings.baseline, must_exist=settings.baseline_named)
        return cls(cwd, settings, baseline, load_playbooks(cwd, settings.playbook_dirs))


def publish(record: RunRecord, run_dir: Path, ci: CiRecord, gate: Gate, outputs: CiOutputs,
            out: Console) -> ExitCode:
    """The gate on a finished run (or a merged one), and everything written about it."""
    settings = gate.settings
    decision = decide(findings_of(record), settings.fail_on, gate.baseline, settings.today or datetime.date.today(),
                      scope_of(record), ci.not_bisected)
    evidence = from_run(record)
    versions = record.versions
    known = versions_map(versions.python, versions.pytest, versions.packages) if versions else {}
    insights = insights_for(evidence, gate.playbooks, known)
    reports = outputs.reports or run_dir / REPORT_DIR
    write_markdown(insights, reports, f"wsdoctor ci, run {record.id}")
    by_test: dict[str, list[str]] = {}
    for insight in insights:
        for test in insight.tests:
            by_test.setdefault(test, []).append(insight.playbook or "unmatched")
    exit_code = ExitCode.OK if decision.passed else ExitCode.FINDINGS
    ci = dataclasses.replace(ci, fail_on=settings.fail_on, baseline=shown_path(settings.baseline, gate.cwd),
                             passed=decision.passed, exit_code=int(exit_code))
    write_atomic(run_dir / CI_FILE, dump_json(ci))
    report = GateReport(record=record, ci=ci, decision=decision,
                        insights={test: tuple(ids) for test, ids in by_test.items()},
                        reports_dir=shown_path(reports, gate.cwd))
    _write_outputs(report, outputs, out)
    from wsdoctor.render.terminal import render_run

    render_run(record, out, shown_path(run_dir / RECORD_FILE, gate.cwd))
    render_gate(report, out)
    return exit_code


def _write_outputs(report: GateReport, outputs: CiOutputs, out: Console) -> None:
    if outputs.junit is not None:
        write_atomic(outputs.junit, junit_xml(report))
    markdown = summary_markdown(report)
    if outputs.summary is not None:
        write_atomic(outputs.summary, markdown)
    if outputs.step_summary is not None:
        with outputs.step_summary.open("a", encoding="utf-8") as handle:  # other steps' summaries stay
            handle.write(markdown)
    if outputs.annotations:
        for line in github_annotations(report):
            out.file.write(line + "\n")
        out.file.flush()
