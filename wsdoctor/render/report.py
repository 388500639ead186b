"""Insight reports: Markdown (index + one file per insight), self-contained HTML, JSON, terminal."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markdown import Markdown

from wsdoctor.analysis.insights import Insight
from wsdoctor.records import TestEvidence
from wsdoctor.render.json_out import change_document

SECTIONS = (("Phenomenon", "phenomenon"), ("Cause", "cause"), ("Solution", "solution"), ("Lesson", "lesson"))


def insight_markdown(insight: Insight, number: int) -> str:
    lines = [f"# {number}. {insight.title}", "",
             f"*Playbook:* `{insight.playbook or 'none (unmatched)'}` · *confidence:* {insight.confidence.value}"
             + (" · *needs a `wsdoctor run` to confirm*" if insight.needs_run else ""), ""]
    lines += ["*Tests:* " + ", ".join(f"`{t}`" for t in insight.tests), ""]
    for heading, key in SECTIONS:
        lines += [f"## {heading}", "", getattr(insight, key), ""]
    lines += ["## Test Evidence", "", "```", *_evidence_lines(insight.evidence), "```", ""]
    if insight.references:
        lines += ["## References", "", *[f"- {link}" for link in insight.references], ""]
    return "\n".join(lines)


def _evidence_lines(evidence: Sequence[TestEvidence]) -> list[str]:
    lines: list[str] = []
    for item in evidence:
        lines.append(f"{item.nodeid}: {item.verdict.value}")
        lines += [f"  {outcome}" for outcome in item.outcomes]
        if item.message:
            lines.append(f"  error: {item.message}")
        lines += [f"  warning: {w}" for w in item.warnings[:3]]
        lines += [f"  leaked: {c.kind} {c.name}: {c.before or '(absent)'} -> {c.after or '(absent)'}"
                  f" (left by {c.by})" for c in item.leaked[:3]]
        lines += [f"  static: {f.path}:{f.line}: {f.id}: {f.code}" for f in item.static[:3]]
        lines += [f"  $ {command}" for command in item.commands]
    return lines


def write_markdown(insights: Sequence[Insight], directory: Path, title: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    index = [f"# {title}", "", f"{len(insights)} insight(s).", ""]
    for number, insight in enumerate(insights, 1):
        name = f"{number:02d}-{insight.playbook or 'unmatched'}.md"
        (directory / name).write_text(insight_markdown(insight, number), encoding="utf-8")
        index.append(f"{number}. [{insight.title}]({name}) — {insight.confidence.value} confidence, "
                     f"{len(insight.tests)} test(s)")
    path = directory / "README.md"
    path.write_text("\n".join(index) + "\n", encoding="utf-8")
    return path


def html_page(insights: Sequence[Insight], title: str) -> str:
    """One page, no network requests, every piece of test output escaped."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
             "pre{background:#f4f4f4;padding:1em;overflow-x:auto}.meta{color:#555}</style></head><body>",
             f"<h1>{html.escape(title)}</h1><p>{len(insights)} insight(s).</p>"]
    for number, insight in enumerate(insights, 1):
        parts.append(f"<section id='insight-{number}'><h2>{number}. {html.escape(insight.title)}</h2>")
        parts.append(f"<p class='meta'>playbook {html.escape(insight.playbook or 'none')} · "
                     f"confidence {insight.confidence.value} · tests: "
                     f"{html.escape(', '.join(insight.tests))}</p>")
        for heading, key in SECTIONS:
            parts.append(f"<h3>{heading}</h3><pre>{html.escape(getattr(insight, key))}</pre>")
        parts.append("<h3>Test Evidence</h3><pre>"
                     f"{html.escape(chr(10).join(_evidence_lines(insight.evidence)))}</pre></section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def json_document(insights: Sequence[Insight]) -> dict[str, Any]:
    """The documented `report --format json`."""
    return {"schema": 1, "insights": [{
        "playbook": i.playbook, "title": i.title, "phenomenon": i.phenomenon, "cause": i.cause,
        "solution": i.solution, "lesson": i.lesson, "confidence": i.confidence.value, "needs_run": i.needs_run,
        "references": list(i.references), "evidence": [_evidence_document(e) for e in i.evidence]}
        for i in insights]}


def _evidence_document(e: TestEvidence) -> dict[str, Any]:
    return {"test": e.nodeid, "verdict": e.verdict.value, "message": e.message, "outcomes": list(e.outcomes),
            "commands": list(e.commands), "warnings": list(e.warnings), "polluters": list(e.polluters),
            "scope": e.scope.value if e.scope else None, "leaked_state": [change_document(c) for c in e.leaked],
            "static": [{"id": f.id, "path": f.path, "line": f.line, "code": f.code} for f in e.static]}


def json_text(insights: Sequence[Insight]) -> str:
    return json.dumps(json_document(insights), indent=2) + "\n"


def render_terminal(insights: Sequence[Insight], console: Console, title: str) -> None:
    console.print(f"[bold]{title}[/]: {len(insights)} insight(s)")
    for number, insight in enumerate(insights, 1):
        console.print(Markdown(insight_markdown(insight, number)))
