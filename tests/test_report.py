"""`wsdoctor report`: the right playbooks for every scenario, in every format, and as a postmortem."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SCENARIOS, expected_variants, run_wsdoctor

pytestmark = pytest.mark.e2e  # every test here runs wsdoctor or pytest in child processes

GOLDEN = Path(__file__).parent / "golden"
WITH_SIGNATURES = [(p.parent.name, n) for p in sorted(SCENARIOS.glob("*/expected.yaml"))
                   for n, expected in enumerate(expected_variants(p.parent.name)) if "signatures" in expected]




@pytest.mark.parametrize(("name", "variant"), WITH_SIGNATURES, ids=lambda v: str(v))
def test_each_scenario_gets_the_playbooks_it_lists(name: str, variant: int, scenario_run) -> None:  # type: ignore[no-untyped-def]
    expected = expected_variants(name)[variant]
    ran = scenario_run(name, variant)
    assert ran.run.exit_code in (0, 1) and ran.report.exit_code == 0, ran.run.stderr + ran.report.stderr
    document = json.loads((ran.project / "report.json").read_text())
    insights = document["insights"]
    found = {i["playbook"] for i in insights if i["playbook"]}  # null: no playbook knows it
    assert set(expected["signatures"]) <= found, insights
    assert (found == set()) is (expected["signatures"] == [])
    for entry in expected.get("polluters") or []:
        if "insights" in entry:
            assert_one_insight_per_cause(insights, entry)
    for warning in expected.get("warnings") or []:
        assert_blamed_on_its_origin(insights, warning)
    if "static" in expected:
        assert_static_findings(insights, expected["static"])


def plain(markdown: str) -> str:
    """Markdown text as it reads: the backslash escapes of test text removed."""
    return re.sub(r"\\([\\`*_{}\[\]<>()#+!|&~-])", r"\1", markdown)


def assert_one_insight_per_cause(insights: list[dict[str, Any]], entry: dict[str, Any]) -> None:
    """`insights` insights name these victims, and each of them names every victim."""
    victims = set(entry.get("victims") or [entry["victim"]])
    naming = [i for i in insights if victims & set(i["tests"])]
    assert len(naming) == entry["insights"], [(i["playbook"], i["tests"]) for i in naming]
    assert all(victims <= set(i["tests"]) for i in naming), [(i["playbook"], i["tests"]) for i in naming]


def assert_blamed_on_its_origin(insights: list[dict[str, Any]], warning: dict[str, str]) -> None:
    """The never-awaited warning is reported for the test that created the coroutine, at its line."""
    about = [i for i in insights if warning["message"] in " ".join(
        w for e in i["evidence"] for w in e["warnings"]) or warning["message"] in plain(i["phenomenon"])]
    assert about, insights
    for insight in about:
        phenomenon = plain(insight["phenomenon"])
        assert warning["created_by"] in insight["tests"], insight["tests"]
        assert warning["emitted_in"] not in insight["tests"], insight["tests"]
        assert f"created at {warning['created_at']}, in {warning['created_by']}" in phenomenon, phenomenon
        assert "Origin unknown" not in phenomenon


def assert_static_findings(insights: list[dict[str, Any]], static: dict[str, list[dict[str, str]]]) -> None:
    """Static findings attributed to a test (file::function, all its parametrizations) or not."""
    found = {(e["test"].split("[")[0], f["id"]) for i in insights for e in i["evidence"] for f in e["static"]}
    for wanted in static.get("present", []):
        assert (wanted["test"], wanted["id"]) in found, sorted(found)
    for unwanted in static.get("absent", []):
        assert (unwanted["test"], unwanted["id"]) not in found, unwanted


def test_clean_control_gets_no_insight_at_all(scenario_run) -> None:  # type: ignore[no-untyped-def]
    assert scenario_run("clean_control").report.exit_code == 0
    assert scenario_run("clean_control").report.json("report.json")["insights"] == []


def normalized(text: str) -> str:
    text = re.sub(r"@[0-9a-f]{6,}", "@ADDR", text)
    return re.sub(r"\d{8}-\d{6}-[0-9a-f]{4}", "RUN-ID", text)


def test_markdown_report_matches_the_golden_file(scenario) -> None:  # type: ignore[no-untyped-def]
    project = scenario("welcome_message_count")
    run_wsdoctor(project, "run", "--workers", "1")  # siblings would add contention re-checks
    done = run_wsdoctor(project, "report", "--format", "markdown", "--out", "report")
    pages = {p.name: normalized(p.read_text()) for p in sorted((project / "report").glob("*.md"))}
    golden = {p.name: p.read_text() for p in sorted((GOLDEN / "welcome_message_count").glob("*.md"))}
    assert done.exit_code == 0
    assert pages == golden


BROKEN_MARKUP = {
    "pytest.ini": "[pytest]\n",
    "test_markup.py": "def test_renders():\n    assert '<script>alert(1)</script>' == '<b>safe</b>'\n",
}


def test_html_report_escapes_test_output_and_loads_nothing(tmp_path: Path) -> None:
    for name, text in BROKEN_MARKUP.items():
        (tmp_path / name).write_text(text)
    run_wsdoctor(tmp_path, "run")
    done = run_wsdoctor(tmp_path, "report", "--format", "html", "--out", "report.html")
    page = (tmp_path / "report.html").read_text()
    assert done.exit_code == 0
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", page)


def test_a_failure_no_playbook_knows_still_gets_an_insight(tmp_path: Path) -> None:
    (tmp_path / "test_odd.py").write_text("def test_divides():\n    assert 1 / 0\n")
    run_wsdoctor(tmp_path, "run")
    run_wsdoctor(tmp_path, "report", "--format", "json", "--out", "r.json")
    [insight] = json.loads((tmp_path / "r.json").read_text())["insights"]
    assert (insight["playbook"], insight["evidence"][0]["test"]) == (None, "test_odd.py::test_divides")
    assert "ZeroDivisionError" in insight["phenomenon"]


def test_postmortem_of_a_json_report_needs_no_run(scenario) -> None:  # type: ignore[no-untyped-def]
    project = scenario("async_mock_misuse")
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--json-report",
                    "--json-report-file=ci.json"], cwd=project, capture_output=True, check=False)
    done = run_wsdoctor(project, "report", "--from-json-report", "ci.json", "--format", "json", "--out", "r.json")
    insights = json.loads((project / "r.json").read_text())["insights"]
    assert done.exit_code == 0 and not (project / ".wsdoctor").exists()
    assert {"asyncmock-overreach", "sync-mock-awaited"} <= {i["playbook"] for i in insights}


def test_postmortem_of_junit_finds_the_collection_error(scenario) -> None:  # type: ignore[no-untyped-def]
    project = scenario("collection_error_mask")
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml=ci.xml"],
                   cwd=project, capture_output=True, check=False)
    done = run_wsdoctor(project, "report", "--from-junit", "ci.xml", "--format", "json", "--out", "r.json")
    insights = json.loads((project / "r.json").read_text())["insights"]
    assert done.exit_code == 0
    assert "collection-error-masks-suite" in {i["playbook"] for i in insights}


def test_artifact_that_does_not_exist_is_bad_input(tmp_path: Path) -> None:
    done = run_wsdoctor(tmp_path, "report", "--from-junit", "nothere.xml")
    assert done.exit_code == 2 and "no such file: nothere.xml" in done.stderr
