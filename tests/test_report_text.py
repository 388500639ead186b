"""What a report says and how: test text escaped but never dropped, no control sequences, no template
holes, playbook patterns that cannot spin (fast layer)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from tests.test_report_input import junit
from wsdoctor.analysis.insights import insights_for
from wsdoctor.analysis.templates import fill
from wsdoctor.playbook import Playbook, load_all
from wsdoctor.records import Confidence, TestEvidence, Verdict
from wsdoctor.render.report import html_page, insight_markdown, render_terminal

MOCK_REPR = "<MagicMock name='mock.dumps().__radd__()' id='140230'>"
HOSTILE = f"assert {MOCK_REPR} == '2[\"foo\"]' <script>alert(1)</script> \x1b]0;pwned\x07\x1b[8mhidden\x1b[0m"


def hostile_insight() -> object:
    item = TestEvidence(nodeid="tests/test_x.py::test_<img src=x onerror=alert(1)>", verdict=Verdict.FAIL,
                        message=HOSTILE, text=f"E   {HOSTILE}")
    [insight] = insights_for([item], [], {})
    return insight


def test_the_terminal_shows_test_text_as_text_without_its_control_sequences() -> None:
    console = Console(file=io.StringIO(), width=400, color_system=None)
    render_terminal([hostile_insight()], console, "report")  # type: ignore[list-item]
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert MOCK_REPR in shown  # rich's Markdown drops inline HTML: the value that explains it must stay
    assert "<script>alert(1)</script>" in shown
    assert "\x1b" not in shown and "\x07" not in shown and "pwned" not in shown  # the window title it set
    assert "hidden" in shown  # the text it tried to hide


def test_markdown_escapes_test_html_outside_code_and_keeps_it_in_code() -> None:
    page = insight_markdown(hostile_insight(), 1)  # type: ignore[arg-type]
    outside_code = re.sub(r"`[^`\n]*`", "", page.split("```")[0])  # code spans are code
    assert not re.search(r"(?<!\\)<", outside_code), outside_code  # every < escaped: no tag, no vanishing
    assert "\\<script\\>" in outside_code
    assert "\\<MagicMock name='mock.dumps().\\_\\_radd\\_\\_()' id='140230'\\>" in outside_code
    assert f"error: assert {MOCK_REPR}" in page  # in the evidence block, as it was
    assert "\x1b" not in page


def test_the_html_page_escapes_test_text_and_renders_the_playbook_markdown() -> None:
    page = html_page([hostile_insight()], "report <b>")  # type: ignore[list-item]
    assert "<script>alert" not in page and "<img src" not in page and "<b>" not in page
    assert "&lt;MagicMock name=&#x27;mock.dumps().__radd__()&#x27; id=&#x27;140230&#x27;&gt;" in page
    assert "<code>wsdoctor playbooks show ID</code>" in page  # Markdown rendered, not shown raw
    assert "\x1b" not in page


@pytest.mark.parametrize(("template", "values", "expected"), [
    ("{victim} failed.\nBisect: polluter(s) {polluters}.", {"victim": "t"}, "t failed."),
    ("It fails after {polluters:a test that ran before it}.", {}, "It fails after a test that ran before it."),
    ("```python\nfrom {leaked_module} import {leaked_object}\n```\nSee `{leaked_module}`.", {},
     "```python\nfrom your_app.module import shared_object\n```"),
    ("```python\n{leaked_object}.{leaked_attribute}.clear()\n```",
     {"leaked_object": "registry", "leaked_attribute": ("channels", "by_user")},
     "```python\nregistry.channels.clear()\nregistry.by_user.clear()\n```"),
    ("Containers: {leaked_attribute}.", {"leaked_attribute": ("channels", "by_user")},
     "Containers: channels, by_user."),
    ("`{message}` and {message}", {"message": "a`b <i>"}, "`a'b <i>` and a\\`b \\<i\\>"),
    ("```\n{message}\n```", {"message": "<i> ``` x"}, "```\n<i> `\u200b`` x\n```"),
    ("Skip reason: {skip_reason}.\n\nLesson.", {}, "Lesson."),
])
def test_templates_escape_by_place_and_never_show_a_hole(template: str, values: dict[str, object],
                                                        expected: str) -> None:
    assert fill(template, values) == expected  # type: ignore[arg-type]


CATASTROPHIC = """\
id: {id}
title: A slow pattern
confidence: low
match:
  - failure: "{pattern}"
phenomenon: "{{victim}}"
cause: "c"
solution: "s"
lesson: "l"
"""


@pytest.mark.parametrize("pattern", ["(a+)+b", "^(a|aa)+$"])
def test_a_catastrophic_user_pattern_cannot_make_report_spin(tmp_path: Path, pattern: str,
                                                            wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "books").mkdir()
    (tmp_path / "books" / "slow.yaml").write_text(CATASTROPHIC.format(id="slow-pattern", pattern=pattern))
    (tmp_path / "ci.xml").write_text(junit("a" * 40 + "!", "b" * 40 + "!"))
    done = wsdoctor_in_process(tmp_path, "report", "--from-junit", "ci.xml", "--playbooks", "books",
                               "--out", "r.json")
    assert done.exit_code == 0, done.stderr
    assert len(json.loads((tmp_path / "r.json").read_text())["insights"]) == 2
    validated = wsdoctor_in_process(tmp_path, "playbooks", "validate", "books")
    assert validated.exit_code == 1
    assert "slow.yaml:5: match.0.failure: warning: a repetition inside a repetition" in validated.stdout


def test_a_pattern_that_overruns_its_time_is_dropped_and_the_report_says_so(
        tmp_path: Path, wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "books").mkdir()
    (tmp_path / "books" / "slow.yaml").write_text(CATASTROPHIC.format(id="slow-pattern", pattern="^(a|a)*$"))
    (tmp_path / "ci.xml").write_text(junit(*["a" * 40 + "!"] * 3))
    done = wsdoctor_in_process(tmp_path, "report", "--from-junit", "ci.xml", "--playbooks", "books",
                               "--out", "r.json")
    assert done.exit_code == 0
    assert "warning: playbook slow-pattern: the pattern '^(a|a)*$' took over 0.25 s" in done.stderr
    assert [i["confidence"] for i in json.loads((tmp_path / "r.json").read_text())["insights"]] == [
        Confidence.LOW.value]


SHIPPED = load_all()[0]
MINIMAL = {"victim": "tests/test_v.py::test_v", "verdict": "fail"}


@pytest.mark.parametrize("playbook", SHIPPED, ids=lambda p: p.id)
def test_a_shipped_playbook_shows_no_hole_and_cites_nothing_internal(playbook: Playbook) -> None:
    texts = {key: fill(getattr(playbook, key), MINIMAL) for key in ("phenomenon", "cause", "solution", "lesson")}
    for key, text in texts.items():
        assert text, f"{playbook.id}: {key} is empty when only the test and its verdict are known"
        prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # code may say None or f"{x}"
        assert not re.search(r"\(unknown\)|\(not bisected\)|\bNone\b|\{\w*\}", prose), (key, prose)
        assert not re.search(r"(?i)\bseed \d|\bcatalogue\b|\bVERIFIED\b", text), (key, text)
    assert "app.ws" not in texts["solution"] and "005930" not in texts["solution"]  # the demo's own names


def test_run_and_bisect_output_print_test_text_without_its_control_sequences(tmp_path: Path) -> None:
    import dataclasses

    from tests.test_from_records import BISECTED, record
    from wsdoctor.render.bisect_view import render_bisect
    from wsdoctor.render.terminal import render_run

    run = record(tmp_path)
    run = dataclasses.replace(run, verdicts=tuple(
        dataclasses.replace(v, reason=f"fails {HOSTILE}", reproduce=("pytest [bold]x[/bold]",))
        if v.verdict is Verdict.ORDER_DEPENDENT else v for v in run.verdicts))
    console = Console(file=io.StringIO(), width=400, color_system=None)
    render_run(run, console, "record")
    render_bisect(dataclasses.replace(BISECTED, summary=HOSTILE), console)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b" not in shown and "\x07" not in shown
    assert MOCK_REPR in shown and "pytest [bold]x[/bold]" in shown  # escaped, not interpreted, not dropped
