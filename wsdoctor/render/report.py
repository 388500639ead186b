"""Insight reports: Markdown (index + one file per insight, or one file), self-contained HTML, JSON, terminal.

The texts of an insight are Markdown whose test-supplied parts are already escaped (see
analysis/templates.py); what this module adds from the evidence (titles, test ids, the evidence
block) it escapes itself. The HTML page renders that Markdown with raw HTML turned off, so
nothing a test printed becomes markup, and it loads nothing from anywhere.
"""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from wsdoctor.analysis.insights import Insight
from wsdoctor.analysis.templates import code_span, fenced, markdown_text
from wsdoctor.codec import write_text
from wsdoctor.records import TestEvidence
from wsdoctor.render.json_out import change_document
from wsdoctor.text import printable, shown_value

SECTIONS = (("Phenomenon", "phenomenon"), ("Cause", "cause"), ("Solution", "solution"), ("Lesson", "lesson"))
TESTS_NAMED = 20  # in an insight's list of tests; the count says how many more
EVIDENCE_SHOWN = 5  # tests whose evidence is shown in full; the others are named


def insight_markdown(insight: Insight, number: int, level: int = 1) -> str:
    top, sub = "#" * level, "#" * (level + 1)
    lines = [f"{top} {number}. {markdown_text(insight.title)}", "",
             f"*Playbook:* `{insight.playbook or 'none (unmatched)'}` · *confidence:* {insight.confidence.value}"
             + (" · *needs a `wsdoctor run` to confirm*" if insight.needs_run else ""), ""]
    lines += [_tests_line(insight.tests), ""]
    for heading, key in SECTIONS:
        if getattr(insight, key):  # a section with no evidence behind it is left out
            lines += [f"{sub} {heading}", "", getattr(insight, key), ""]
    lines += [f"{sub} Test Evidence", "", *fenced(evidence_lines(insight.evidence)), ""]
    if insight.references:
        lines += [f"{sub} References", "", *[f"- {link}" for link in insight.references], ""]
    return "\n".join(lines)


def _tests_line(tests: Sequence[str]) -> str:
    named = ", ".join(code_span(t) for t in tests[:TESTS_NAMED])
    more = f" and {len(tests) - TESTS_NAMED} more" if len(tests) > TESTS_NAMED else ""
    return f"*Tests ({len(tests)}):* {named}{more}" if len(tests) > 1 else f"*Tests:* {named}"


def evidence_lines(evidence: Sequence[TestEvidence]) -> list[str]:
    """The evidence as plain lines, for a code block: the first few tests in full, then the others' ids."""
    lines: list[str] = []
    for item in evidence[:EVIDENCE_SHOWN]:
        lines.append(f"{item.nodeid}: {item.verdict.value}")
        lines += [f"  {outcome}" for outcome in item.outcomes]
        if item.message:
            lines.append(f"  error: {item.message}")
        lines += [f"  warning: {w}" for w in item.warnings[:3]]
        lines += [f"  leaked: {c.kind} {c.name}: {shown_value(c.before)} -> {shown_value(c.after)}"
                  f" (left by {c.by})" for c in item.leaked[:3]]
        lines += [f"  static: {f.path}:{f.line}: {f.id}: {f.code}" for f in item.static[:3]]
        lines += [f"  $ {command}" for command in item.commands]
        if item.others:
            lines.append(f"  the same in {len(item.others)} more test(s): "
                         + ", ".join(item.others[:TESTS_NAMED]) + (" ..." if len(item.others) > TESTS_NAMED else ""))
    rest = [test for item in evidence[EVIDENCE_SHOWN:] for test in item.tests]
    if rest:
        lines.append(f"and {len(rest)} more test(s) with this cause: " + ", ".join(rest[:TESTS_NAMED])
                     + (" ..." if len(rest) > TESTS_NAMED else ""))
    return [printable(line) for line in lines]


def write_markdown(insights: Sequence[Insight], directory: Path, title: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    index = [f"# {markdown_text(title)}", "", f"{len(insights)} insight(s).", ""]
    for number, insight in enumerate(insights, 1):
        name = f"{number:02d}-{insight.playbook or 'unmatched'}.md"
        write_text(directory / name, insight_markdown(insight, number))
        index.append(f"{number}. [{markdown_text(insight.title)}]({name}) — {insight.confidence.value} confidence, "
                     f"{len(insight.tests)} test(s)")
    path = directory / "README.md"
    write_text(path, "\n".join(index) + "\n")
    return path


def markdown_document(insights: Sequence[Insight], title: str) -> str:
    """Every insight in one Markdown file: the title, then each insight one heading level down."""
    parts = [f"# {markdown_text(title)}", "", f"{len(insights)} insight(s).", ""]
    parts += [insight_markdown(insight, number, level=2) for number, insight in enumerate(insights, 1)]
    return "\n".join(parts)


@functools.cache
def _markdown() -> Any:
    """CommonMark without raw HTML: a `<script>` in test text stays text. Links to javascript: and
    data: are refused by markdown-it's own link validation. Imported for the HTML report only: a
    gate that writes Markdown does not pay for it."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})

_STYLE = ("body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.45;"
          "overflow-wrap:anywhere}"
          "pre{background:#f4f4f4;padding:1em;white-space:pre-wrap;overflow-wrap:anywhere}"
          "code{background:#f4f4f4;padding:0 .2em;overflow-wrap:anywhere}pre code{padding:0}"
          ".meta{color:#555}section{border-top:1px solid #ddd;margin-top:2em}")
# No network, no script, no plugin: even an injected element could load nothing.
_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; script-src 'none'; "
           "base-uri 'none'; form-action 'none'")


def html_page(insights: Sequence[Insight], title: str) -> str:
    """One page, no network requests, the playbooks' Markdown rendered, every piece of test output escaped."""
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             f"<meta http-equiv='Content-Security-Policy' content=\"{_POLICY}\">"
             f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
             f"<title>{_escaped(title)}</title><style>{_STYLE}</style></head><body>",
             f"<h1>{_escaped(title)}</h1><p>{len(insights)} insight(s).</p>"]
    if insights:
        parts.append("<ol class='index'>" + "".join(
            f"<li><a href='#insight-{n}'>{_escaped(i.title)}</a> ({i.confidence.value} confidence, "
            f"{len(i.tests)} test(s))</li>" for n, i in enumerate(insights, 1)) + "</ol>")
    for number, insight in enumerate(insights, 1):
        parts.append(f"<section id='insight-{number}'><h2>{number}. {_escaped(insight.title)}</h2>")
        parts.append(f"<p class='meta'>playbook {_escaped(insight.playbook or 'none')} · "
                     f"confidence {insight.confidence.value}"
                     + (" · needs a <code>wsdoctor run</code> to confirm" if insight.needs_run else "") + "</p>")
        parts.append(_markdown().render(_tests_line(insight.tests)))
        for heading, key in SECTIONS:
            if getattr(insight, key):
                parts.append(f"<h3>{heading}</h3>{_markdown().render(getattr(insight, key))}")
        parts.append(f"<h3>Test Evidence</h3><pre>{_escaped(chr(10).join(evidence_lines(insight.evidence)))}</pre>")
        if insight.references:
            parts.append("<h3>References</h3>" + _markdown().render(
                "\n".join(f"- <{link}>" if link.startswith("https://") else f"- {markdown_text(link)}"
                          for link in insight.references)))
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _escaped(text: str) -> str:
    return html.escape(printable(text))


def json_document(insights: Sequence[Insight]) -> dict[str, Any]:
    """The documented `report --format json`."""
    return {"schema": 1, "insights": [{
        "playbook": i.playbook, "title": i.title, "phenomenon": i.phenomenon, "cause": i.cause,
        "solution": i.solution, "lesson": i.lesson, "confidence": i.confidence.value, "needs_run": i.needs_run,
        "references": list(i.references), "tests": list(i.tests),
        "evidence": [_evidence_document(e) for e in i.evidence]}
        for i in insights]}


def _evidence_document(e: TestEvidence) -> dict[str, Any]:
    return {"test": e.nodeid, "verdict": e.verdict.value, "message": e.message, "outcomes": list(e.outcomes),
            "commands": list(e.commands), "warnings": list(e.warnings), "polluters": list(e.polluters),
            "scope": e.scope.value if e.scope else None, "leaked_state": [change_document(c) for c in e.leaked],
            "static": [{"id": f.id, "path": f.path, "line": f.line, "code": f.code} for f in e.static],
            "same_in": list(e.others)}


def json_text(insights: Sequence[Insight]) -> str:
    return json.dumps(json_document(insights), indent=2) + "\n"


def render_terminal(insights: Sequence[Insight], console: Console, title: str) -> None:
    console.print(f"[bold]{_escaped_markup(title)}[/]: {len(insights)} insight(s)", highlight=False)
    for number, insight in enumerate(insights, 1):
        from rich.markdown import Markdown  # the terminal's report only

        console.print(Markdown(insight_markdown(insight, number)))


def _escaped_markup(text: str) -> str:
    from rich.markup import escape

    return escape(printable(text))
