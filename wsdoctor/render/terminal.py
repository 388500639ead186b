"""The end-of-run summary: every non-pass verdict, its evidence, and how to reproduce it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from wsdoctor.analysis.audit import Risk, folded, ranked
from wsdoctor.analysis.observations import summarize
from wsdoctor.records import (
    RUN_VERDICTS,
    Outcome,
    RecordStatus,
    RunRecord,
    RunVerdict,
    StateChange,
    TestVerdict,
    Verdict,
)
from wsdoctor.render.bisect_view import render_bisect
from wsdoctor.render.markup import plain_text
from wsdoctor.text import exit_blocked_in, first_line, shown_value

STYLES: dict[RunVerdict, str] = {
    Verdict.PASS: "green", Verdict.FAIL: "red", Verdict.ORDER_DEPENDENT: "magenta",
    Verdict.BRITTLE: "magenta", Verdict.FLAKY: "yellow", Verdict.HANG: "red",
    Verdict.CRASH: "red", Verdict.COLLECTION_ERROR: "red", Verdict.NOT_RUN: "red", Verdict.SKIP: "cyan",
    Verdict.XFAIL: "cyan",
}


def render_run(record: RunRecord, console: Console, record_path: str) -> None:
    _print_notes(record, console)
    if record.status is not RecordStatus.COMPLETE:
        _print_unfinished(record, console, record_path)
        return
    findings = record.findings()
    if findings:
        console.print(_findings_table(findings))
        for finding in findings:
            _print_details(finding, console)
    _print_lingering(record, console)
    if record.options.audit:
        _print_audit(record.audit(), console)
    for result in record.bisects:
        if result.explained_by is None:
            render_bisect(result, console)
    shared = [result for result in record.bisects if result.explained_by is not None]
    if shared:
        console.print(f"\n[bold]{len(shared)} more order-dependent test(s) share a cause found above[/] "
                      "(each failed after the same polluters, in one run):")
        for result in shared:
            console.print(f"  {plain_text(result.victim)} [dim]← {plain_text(result.explained_by or '')}[/]",
                          highlight=False, soft_wrap=True)
    console.print(_summary_line(record, record_path), highlight=False)


def _print_notes(record: RunRecord, console: Console) -> None:
    """What wsdoctor could not read of what a child left (the rest of it counted)."""
    for plan_result in record.plan_results:
        for child in plan_result.children:
            for note in child.notes:
                console.print(f"[yellow]warning:[/] child {plain_text(Path(child.artifacts).name)}: {plain_text(note)}",
                              highlight=False, soft_wrap=True)


def _print_unfinished(record: RunRecord, console: Console, record_path: str) -> None:
    """A run that did not complete has no verdicts: what its children reported before it ended."""
    ran = [(plan_result.plan.label, result) for plan_result in record.plan_results for result in plan_result.results
           if result.outcome is not Outcome.NOT_RUN]
    for label, result in ran:
        if not result.outcome.is_good:
            console.print(f"[red]{result.outcome.value}[/] {plain_text(result.nodeid)} ({plain_text(label)})"
                          + (f": {plain_text(result.message)}" if result.message else ""),
                          highlight=False, soft_wrap=True)
    planned = sum(len(plan_result.plan.test_ids) for plan_result in record.plan_results)
    counts = Counter(result.outcome.value for _, result in ran)
    done = ", ".join(f"{n} {outcome}" for outcome, n in counts.items()) or "none"
    # A run killed before it ended never wrote how long it took.
    took = f" in {record.seconds:.1f} s" if record.seconds else " started"
    console.print(f"wsdoctor: run {record.status.value}, no verdicts: {len(ran)} of {planned} test run(s) "
                  f"done ({done}) · {record.children_started} child run(s){took} · "
                  f"record {record_path}", highlight=False)


def _print_lingering(record: RunRecord, console: Console) -> None:
    """Sessions whose tests all finished and whose process did not exit: plain pytest hangs there."""
    lingering = record.lingering()
    if not lingering:
        return
    threads = dict.fromkeys(thread for _, child in lingering for thread in child.threads_alive)
    named = ", ".join(f"{t.name}" + (f" (started by {t.started_by})" if t.started_by else "") for t in threads)
    plans = ", ".join(dict.fromkeys(label for label, _ in lingering))
    if threads:
        them = "it" if len(threads) == 1 else "them"
        why = f"{plain_text(named)} still alive; plain pytest waits for {them} for ever"
    else:  # no thread to wait for: the interpreter's own exit did not end
        where = next((found for _, child in lingering if (found := exit_blocked_in(child.hang_dump))), "")
        why = ("no thread was left, but the interpreter's exit never ended (an atexit function, or a "
               "multiprocessing child never joined), " + (f"blocked in {plain_text(where)}" if where else
                                                          "in code that is not Python"))
    console.print(f"\n[red]session did not exit[/] after its last test in {plain_text(plans)}: {why}",
                  highlight=False, soft_wrap=True)


def _print_audit(changes: Sequence[StateChange], console: Console) -> None:
    ranked_changes = ranked(changes)
    shown = [r for r in ranked_changes if r.risk is not Risk.NOISE]
    noise = folded(ranked_changes)
    if not shown:
        console.print("[green]audit: no test or import left process-global state changed[/]"
                      + (f" ({_noise_line(noise)})" if noise else ""), highlight=False)
        return
    table = Table(title=f"audit: {len(shown)} change(s) left behind that can break another test, riskiest first",
                  title_justify="left")
    for column in ("risk", "left by", "kind", "name", "before → after"):
        table.add_column(column, overflow="fold")
    for item in shown:
        change = item.change
        table.add_row(item.risk.value, plain_text(change.by), change.kind, plain_text(change.name),
                      plain_text(f"{shown_value(change.before)} → {shown_value(change.after)}"))
    console.print(table)
    if noise:
        console.print(f"  and {_noise_line(noise)}: not listed (`--json` has them, risk noise)", highlight=False)


def _noise_line(noise: Counter[str]) -> str:
    return ", ".join(f"{count} {why}" for why, count in noise.most_common())


def _findings_table(findings: Sequence[TestVerdict]) -> Table:
    table = Table(title="Findings", title_justify="left")
    table.add_column("verdict", no_wrap=True)
    table.add_column("test", overflow="fold")
    table.add_column("outcome per run")
    for finding in findings:
        table.add_row(_verdict_text(finding.verdict), plain_text(finding.nodeid),
                      plain_text(summarize(finding.observations)))
    return table


def _verdict_text(verdict: RunVerdict) -> str:
    return f"[{STYLES[verdict]}]{verdict.value}[/]"


def _print_details(finding: TestVerdict, console: Console) -> None:
    console.print(f"\n{_verdict_text(finding.verdict)} [bold]{plain_text(finding.nodeid)}[/]",
                  highlight=False, soft_wrap=True)
    console.print(f"  {plain_text(finding.reason)}", highlight=False)
    message = finding.detail or next((o.message for o in finding.observations if o.message), "")
    if message and first_line(message) not in finding.reason:
        console.print(f"  {plain_text(first_line(message))}", highlight=False, soft_wrap=True)
    for command in finding.reproduce:
        console.print(f"  $ {plain_text(command)}", highlight=False, soft_wrap=True)


def _summary_line(record: RunRecord, record_path: str) -> str:
    counts = Counter(v.verdict for v in record.verdicts)
    parts = [f"{counts[v]} {v.value}" for v in RUN_VERDICTS if counts[v]]
    tests = sum(counts.values())
    if record.lingering():
        parts.append("the session did not exit")
    return (f"wsdoctor: {tests} test(s): {', '.join(parts) or 'nothing ran'} · "
            f"{record.children_started} child run(s) in {record.seconds:.1f} s · record {record_path}")
