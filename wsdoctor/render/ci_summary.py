"""What `wsdoctor ci` shows: the Markdown summary (GitHub's job summary, or --summary FILE), the
GitHub Actions annotations, and the gate's lines on the terminal. Formatting only."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape

from wsdoctor.analysis.gate import Finding, GateReport
from wsdoctor.records import RUN_VERDICTS

MARKS = {"failing": "❌ new", "expired": "⏰ expired", "accepted": "✔️ accepted", "reported": "ℹ️ reported"}
MAX_ROWS = 100  # GitHub caps a job summary at 1 MiB; the rest is in the reports and the JUnit file


def summary_markdown(report: GateReport) -> str:
    decision, ci, record = report.decision, report.ci, report.record
    verdict = "passed ✅" if decision.passed else "failed ❌"
    lines = [f"## wsdoctor ci: the gate {verdict}", "", _what_ran(report), ""]
    findings = report.findings()
    if findings:
        lines += ["| | verdict | test | why |", "| --- | --- | --- | --- |"]
        lines += [_row(report, f) for f in findings[:MAX_ROWS]]
        if len(findings) > MAX_ROWS:
            lines.append(f"| | | … {len(findings) - MAX_ROWS} more | in the reports and the JUnit file |")
        lines.append("")
    else:
        lines += ["No findings: every test passed in every order, and none left state changed.", ""]
    lines += _listed("Fixed: baseline entries no longer found (`wsdoctor baseline update` removes them)",
                     [f"{_code(e.test)}: {e.verdict}" for e in decision.fixed])
    lines += _listed("Not bisected within the `--budget`", [_code(v) for v in decision.not_bisected])
    lines += _listed("What the split into shards did", [_cell(note) for note in ci.notes])
    counts = Counter(v.verdict for v in record.verdicts)
    lines.append("Verdicts: " + (", ".join(f"{counts[v]} {v.value}" for v in RUN_VERDICTS if counts[v]) or "none"))
    if report.reports_dir:
        lines.append(f"Insight reports: `{report.reports_dir}` · record: `{record.id}`")
    if ci.seed is not None:
        lines.append(f"Reproduce the shuffled order: `wsdoctor ci --seed {ci.seed}"
                     + (f" --shard {ci.shard}`" if ci.shard else "`"))
    return "\n".join(lines) + "\n"


def _what_ran(report: GateReport) -> str:
    ci, record = report.ci, report.record
    tests = len(record.collection.tests) if record.collection else 0
    orders = "the suite order" + (f" and one shuffled order (seed {ci.seed}, {ci.seed_source})"
                                  if ci.seed is not None else "")
    where = f" · shard {ci.shard}" if ci.shard else ""
    merged = f" · merged from {len(ci.merged_from)} record(s)" if ci.merged_from else ""
    return (f"{tests} test(s) in {orders}{where}{merged} · {record.children_started} child run(s) "
            f"in {record.seconds:.1f} s · fails on: {', '.join(report.decision.fail_on)}")


def _row(report: GateReport, finding: Finding) -> str:
    status = report.gate_status(finding)
    why = [finding.reason]
    if finding.state:
        why.append(f"left {_code(finding.state)} changed")
    entry = report.decision.entry_for(finding)
    if entry is not None:
        why.append(f"baseline: {entry.reason}" + (f" (expires {entry.expires})" if entry.expires else ""))
    polluters = [p for b in report.record.bisects if b.victim == finding.test for p in b.polluters]
    if polluters:
        why.append("after " + ", ".join(_code(p) for p in polluters))
    if report.insights.get(finding.test):
        why.append("insight " + ", ".join(_code(i) for i in report.insights[finding.test]))
    return f"| {MARKS[status]} | {finding.verdict} | {_code(finding.test)} | {_cell('; '.join(w for w in why if w))} |"


def _listed(title: str, items: list[str]) -> list[str]:
    return [f"**{title}:**", "", *(f"- {item}" for item in items), ""] if items else []


def _code(text: str) -> str:
    """Inline code that survives backticks and table pipes in the text."""
    fence, pad = ("``", " ") if "`" in text else ("`", "")
    return f"{fence}{pad}{text}{pad}{fence}".replace("|", "\\|")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


# --- GitHub Actions ------------------------------------------------------------------------------


def github_annotations(report: GateReport) -> list[str]:
    """Workflow commands that put each finding on its test's file and line in the pull request."""
    lines = []
    for finding in report.findings():
        status = report.gate_status(finding)
        level = "error" if status in ("failing", "expired") else "notice"
        path, line = report.location(finding.test)
        title = f"wsdoctor: {finding.verdict}" + (" (baseline expired)" if status == "expired" else
                                                   " (accepted)" if status == "accepted" else "")
        message = "; ".join(part for part in (finding.test, finding.reason, finding.message) if part)
        lines.append(f"::{level} file={_property(path)},line={line},title={_property(title)}::{_data(message)}")
    return lines


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


# --- the terminal --------------------------------------------------------------------------------


def render_gate(report: GateReport, console: Console) -> None:
    decision, ci = report.decision, report.ci
    for note in (*ci.notes, *(f"not bisected within the --budget: {v}" for v in decision.not_bisected)):
        console.print(f"note: {escape(note)}", highlight=False, soft_wrap=True)
    for entry in decision.fixed:
        console.print(f"fixed: {entry.verdict} {escape(entry.test)} is in the baseline and no longer found",
                      highlight=False, soft_wrap=True)
    _print_findings(console, "accepted by the baseline", ((f, e.reason) for f, e in decision.accepted))
    _print_findings(console, "[red]baseline entry expired[/]",
                    ((f, f"expired {e.expires}") for f, e in decision.expired))
    _print_findings(console, "[red]fails the gate[/]", ((f, f.reason) for f in decision.failing))
    result = "[green]passed[/]" if decision.passed else "[red]failed[/]"
    failing = len(decision.failing) + len(decision.expired)
    console.print(f"wsdoctor ci: the gate {result}: {failing} finding(s) fail it, {len(decision.accepted)} accepted, "
                  f"{len(decision.reported)} reported (fails on: {', '.join(decision.fail_on)})", highlight=False,
                  soft_wrap=True)


def _print_findings(console: Console, label: str, items: Iterable[tuple[Finding, str]]) -> None:
    for finding, why in items:
        state = f" ({escape(finding.state)})" if finding.state else ""
        console.print(f"{label}: {finding.verdict} {escape(finding.test)}{state}: {escape(why)}",
                      highlight=False, soft_wrap=True)
