"""`wsdoctor ci` once its first children run: the session to its verdicts (a shard's share of the
suite taken first), bisects, and the gate with everything written about it (shared with merge)."""

from __future__ import annotations

import dataclasses
import datetime
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from wsdoctor.analysis.gate import BaselineEntry, GateReport, decide, findings_of, scope_of
from wsdoctor.analysis.insights import insights_for, versions_map
from wsdoctor.analysis.shards import ShardSpec, shard_collection, shard_files, suite_files
from wsdoctor.baseline import read_baseline
from wsdoctor.codec import dump_json, write_atomic
from wsdoctor.collect import collect_suite
from wsdoctor.commands.ci_request import CiOutputs, CiRequest, GateSettings
from wsdoctor.commands.clean import prune_quietly
from wsdoctor.commands.report import load_playbooks
from wsdoctor.commands.run_session import RunSession, execute_to_verdicts
from wsdoctor.commands.run_start import StartedRun
from wsdoctor.evidence import from_run
from wsdoctor.exits import ExitCode
from wsdoctor.paths import shown_path
from wsdoctor.planner import discovering_plans
from wsdoctor.playbook import Playbook
from wsdoctor.records import CiRecord, RunRecord, Verdict
from wsdoctor.render.ci_summary import github_annotations, render_gate, summary_markdown
from wsdoctor.render.progress import ProgressUI
from wsdoctor.render.report import write_markdown
from wsdoctor.render.terminal import render_run
from wsdoctor.store import RECORD_FILE

CI_FILE = "ci.json"
REPORT_DIR = "report"


@dataclass(frozen=True, slots=True)
class CiStart:
    """A gate whose first children run: what ci_command found before starting them."""

    started: StartedRun
    request: CiRequest
    baseline: tuple[BaselineEntry, ...]
    durations: Mapping[str, float]
    seed: int
    seed_source: str


def complete_ci(start: CiStart, out: Console, err: Console) -> ExitCode:
    request = start.request
    session = RunSession(start.started, ProgressUI(err))
    session.ui.note(f"shuffled order: seed {start.seed} ({start.seed_source}); "
                    f"`{_repeat_command(start)}` repeats it")
    taken = _ShardTaken()
    gates: list[Gate] = []

    def prepare(session: RunSession) -> None:  # while the first children run
        gates.append(Gate(request.cwd, request.gate, start.baseline, load_playbooks(request.cwd,
                                                                                    request.gate.playbook_dirs)))
        if request.shard is not None:
            _take_shard(session, request.shard, start.durations, taken)

    stopped = execute_to_verdicts(session, err, prepare)
    if stopped is not None:
        return stopped
    left_out = session.bisect_victims(err, _new_victims(session.record, start.baseline), request.budget,
                                      request.budget_runs)
    ci = CiRecord(run_id=session.record.id, seed=start.seed, seed_source=start.seed_source,
                  shard=str(request.shard) if request.shard else None, files=taken.files,
                  suite_files=taken.suite_files, not_bisected=left_out)
    code = publish(session.record, start.started.run_dir, ci, gates[0], request.outputs, out)
    prune_quietly(request.cwd)
    return code


def _repeat_command(start: CiStart) -> str:
    """The gate that runs the same shuffled order: a shard's is the shuffle of its own share."""
    request = start.request
    words = ["wsdoctor", "ci", "--seed", str(start.seed)]
    if request.shard is not None:
        words += ["--shard", str(request.shard)]
        if request.durations_from is not None:
            words += ["--durations-from", shlex.quote(str(request.durations_from))]
    return " ".join(words)


@dataclass(slots=True)
class _ShardTaken:
    files: tuple[str, ...] = ()
    suite_files: tuple[str, ...] = ()  # the whole suite's, in its order: merge restores it


def _take_shard(session: RunSession, spec: ShardSpec, durations: Mapping[str, float], taken: _ShardTaken) -> None:
    """Before the run collects: collect the whole suite, keep this shard's files."""
    full, versions = collect_suite(session.executor, session.request.options.paths)
    files = shard_files(full, spec, durations)
    taken.files, taken.suite_files = files, suite_files(full)
    session.ui.note(f"shard {spec}: {len(files)} of the suite's {len(taken.suite_files)} file(s)"
                    + (" (balanced by recorded durations)" if durations else " (balanced by test counts)"))
    narrowed = dataclasses.replace(session.request.options, paths=files)
    session.request = dataclasses.replace(session.request, options=narrowed)
    session.record = dataclasses.replace(session.record, options=narrowed)
    session.use_collection(shard_collection(full, files), versions)
    # The shard's files, collected by its children: its suite order runs as the project runs it.
    session.discovering = tuple((plan, None) for plan in discovering_plans(narrowed))


def _new_victims(record: RunRecord, baseline: Sequence[BaselineEntry]) -> list[str]:
    """Order-dependent tests the baseline does not accept: each is bisected."""
    accepted = {entry.key for entry in baseline}
    return [v.nodeid for v in record.findings() if v.verdict is Verdict.ORDER_DEPENDENT and "::" in v.nodeid
            and (v.nodeid, v.verdict.value, "") not in accepted]


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
    evidence = from_run(dataclasses.replace(record, verdicts=record.findings()))  # a gate reports findings
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
    render_run(record, out, shown_path(run_dir / RECORD_FILE, gate.cwd))
    render_gate(report, out)
    return exit_code


def _write_outputs(report: GateReport, outputs: CiOutputs, out: Console) -> None:
    if outputs.junit is not None:
        from wsdoctor.render.junit import junit_xml  # xml and socket: only for a job that asks for JUnit

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
