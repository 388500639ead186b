"""What CI systems read, from a gate made by hand: JUnit XML (validated against the schema CI
systems use), the Markdown summary (rendered), GitHub's workflow commands; and the seed."""

from __future__ import annotations

import dataclasses
import datetime
import io
from pathlib import Path
from xml.etree import ElementTree

import pytest
import xmlschema
from markdown_it import MarkdownIt
from rich.console import Console

from tests.test_gate import CLEAN, FAILS, LIMITS, POLLUTER, TODAY, VICTIM, a_run
from wsdoctor.analysis.gate import (
    DEFAULT_FAIL_ON,
    LEAKED_STATE,
    BaselineEntry,
    GateReport,
    decide,
    findings_of,
    scope_of,
)
from wsdoctor.commands.ci import seed_of
from wsdoctor.records import BisectResult, CiRecord, CollectedTest, Collection, Scope, Verdict
from wsdoctor.render.ci_summary import github_annotations, render_gate, summary_markdown
from wsdoctor.render.junit import junit_xml

SCHEMA = xmlschema.XMLSchema(str(Path(__file__).parent / "schemas" / "junit-10.xsd"))
ODD = "tests/test_rooms.py::test_odd[a|b`c <&>]"


def a_report(baseline: tuple[BaselineEntry, ...] = (), odd: bool = False) -> GateReport:
    verdicts = {POLLUTER: Verdict.PASS, VICTIM: Verdict.ORDER_DEPENDENT, FAILS: Verdict.FAIL, CLEAN: Verdict.PASS}
    record = a_run(verdicts, leaks=(LIMITS,), bisects=(BisectResult(
        victim=VICTIM, verdict=Verdict.ORDER_DEPENDENT, summary="", polluters=(POLLUTER,), scope=Scope.TEST),))
    if odd:
        collection = record.collection
        assert collection is not None
        tests = (*collection.tests, CollectedTest(ODD, "tests/test_rooms.py", lineno=41))
        record = dataclasses.replace(record, collection=Collection("/p", None, tests),
                                     verdicts=(*record.verdicts, *a_run({ODD: Verdict.FLAKY}).verdicts))
    decision = decide(findings_of(record), DEFAULT_FAIL_ON, baseline, TODAY, scope_of(record), ("tests/t.py::test_v",))
    ci = CiRecord(run_id=record.id, seed=42, seed_source="--seed", shard="2/4", baseline="wsdoctor-baseline.yaml",
                  notes=("the split separated a from b",))
    return GateReport(record=record, ci=ci, decision=decision, insights={VICTIM: ("singleton-container-leak",)},
                      reports_dir=".wsdoctor/runs/r1/report")


ACCEPTED = (BaselineEntry(POLLUTER, LEAKED_STATE, "admin panel", state="module-attr app.ratelimit.LIMITS"),
            BaselineEntry(VICTIM, "order-dependent", "until ticket 12", expires=datetime.date(2020, 1, 1)),
            BaselineEntry("tests/test_rooms.py::test_gone", "flaky", "was flaky"))


@pytest.mark.parametrize("report", [a_report(), a_report(ACCEPTED), a_report(odd=True)],
                         ids=["new", "baselined", "odd"])
def test_the_junit_xml_validates_against_the_jenkins_junit_schema(report: GateReport) -> None:
    SCHEMA.validate(junit_xml(report))


def test_junit_failures_are_the_findings_that_fail_the_gate_and_properties_carry_verdicts_and_insights() -> None:
    root = ElementTree.fromstring(junit_xml(a_report(ACCEPTED)))
    failed = {case.get("name"): case.find("failure").get("type")  # type: ignore[union-attr]
              for case in root.iter("testcase") if case.find("failure") is not None}
    assert failed == {"gate": "gate", "test_61st_message_in_a_minute_is_rejected": "order-dependent"}  # expired
    assert root.get("failures") == "2"
    properties = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert properties[f"wsdoctor.verdict:{VICTIM}"] == "order-dependent"
    assert properties[f"wsdoctor.gate:{VICTIM}"] == "expired"
    assert properties[f"wsdoctor.insight:{VICTIM}"] == "singleton-container-leak"
    assert properties[f"wsdoctor.gate:{POLLUTER}"] == "accepted"
    assert properties[f"wsdoctor.verdict:{FAILS}"] == "fail"
    assert properties[f"wsdoctor.gate:{FAILS}"] == "reported"
    assert (properties["wsdoctor.gate"], properties["wsdoctor.seed"], properties["wsdoctor.shard"]) == ("failed", "42",
                                                                                                       "2/4")
    admin = next(case for case in root.iter("testcase") if case.get("name") == "test_admin_can_raise_the_limit")
    assert "accepted by the baseline: left process-global state changed" in (admin.findtext("system-out") or "")
    assert admin.get("classname") == "tests.test_admin"


def test_the_summary_renders_as_markdown_with_a_row_per_finding() -> None:
    text = summary_markdown(a_report(ACCEPTED, odd=True))
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert html.count("<tr>") == 1 + 4  # the header and one row per finding
    assert "<h2>wsdoctor ci: the gate failed ❌</h2>" in html
    assert "⏰ expired" in html and "✔️ accepted" in html and "ℹ️ reported" in html and "❌ new" in html
    assert "<code>tests/test_rooms.py::test_odd[a|b`c &lt;&amp;&gt;]</code>" in html  # the pipe did not split the row
    assert "was flaky" not in html and "tests/test_rooms.py::test_gone" in html  # fixed entries are listed
    assert "the split separated a from b" in html
    assert "<code>wsdoctor ci --seed 42 --shard 2/4</code>" in html  # one command, the shard's own shuffle


def test_a_passing_gate_says_so() -> None:
    text = summary_markdown(a_report((*ACCEPTED[:1], BaselineEntry(VICTIM, "order-dependent", "known"))))
    assert text.startswith("## wsdoctor ci: the gate passed ✅")


def test_github_annotations_put_each_finding_on_its_file_and_line() -> None:
    lines = github_annotations(a_report(ACCEPTED, odd=True))
    assert ("::error file=tests/test_ratelimit.py,line=1,title=wsdoctor%3A order-dependent (baseline expired)::"
            f"{VICTIM}; order-dependent because") in lines
    odd = next(line for line in lines if "test_odd" in line)
    assert odd.startswith("::error file=tests/test_rooms.py,line=42,title=wsdoctor%3A flaky::")
    assert any(line.startswith("::notice file=tests/test_admin.py,line=1,title=wsdoctor%3A leaked-state (accepted)")
               for line in lines)
    assert all("\n" not in line for line in lines)


def test_the_seed_comes_from_the_flag_then_the_ci_run_and_is_the_same_for_every_shard() -> None:
    assert seed_of(7, {"GITHUB_RUN_ID": "1"}) == (7, "--seed")
    github = {"GITHUB_RUN_ID": "9812", "GITHUB_RUN_ATTEMPT": "2"}
    seed, source = seed_of(None, github)
    assert seed_of(None, dict(github)) == (seed, source) and source == "from GITHUB_RUN_ID 9812/2"
    assert seed_of(None, {**github, "GITHUB_RUN_ATTEMPT": "3"})[0] != seed
    assert seed_of(None, {"CI_PIPELINE_ID": "55"})[1] == "from CI_PIPELINE_ID 55"
    assert seed_of(None, {})[1].startswith("chosen at random")


def test_in_a_ci_log_each_line_of_the_gate_is_one_line() -> None:
    # No terminal: rich would cut at 80 columns; a CI log keeps a line whole, and greps find it.
    console = Console(file=io.StringIO(), width=80, color_system=None)
    render_gate(a_report(), console)
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines[-1].startswith("wsdoctor ci: the gate failed: ") and lines[-1].endswith("leaked-state, not-run)")
    assert all(line.startswith(("note: ", "fails the gate: ", "wsdoctor ci: ")) for line in lines), lines
