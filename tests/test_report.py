"""`wsdoctor report`: the right playbooks for every scenario, in every format, and as a postmortem."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SCENARIOS, load_expected, run_wsdoctor

pytestmark = pytest.mark.e2e  # every test here runs wsdoctor or pytest in child processes

GOLDEN = Path(__file__).parent / "golden"
WITH_SIGNATURES = sorted(p.parent.name for p in SCENARIOS.glob("*/expected.yaml")
                         if "signatures" in load_expected(p.parent.name))


def report_json(project: Path, *run_args: str) -> dict[str, Any]:
    ran = run_wsdoctor(project, "run", "--bisect", "--workers", "2", *run_args)
    assert ran.exit_code in (0, 1), ran.stderr
    done = run_wsdoctor(project, "report", "--format", "json", "--out", "report.json")
    assert done.exit_code == 0, done.stderr
    document: dict[str, Any] = json.loads((project / "report.json").read_text())
    return document


@pytest.mark.parametrize("name", WITH_SIGNATURES)
def test_each_scenario_gets_the_playbooks_it_lists(name: str, scenario) -> None:  # type: ignore[no-untyped-def]
    expected = load_expected(name)
    document = report_json(scenario(name), *expected.get("run_args", []))
    found = {i["playbook"] for i in document["insights"] if i["playbook"]}  # null: no playbook knows it
    assert set(expected["signatures"]) <= found, document["insights"]
    assert (found == set()) is (expected["signatures"] == [])


def test_clean_control_gets_no_insight_at_all(scenario) -> None:  # type: ignore[no-untyped-def]
    assert report_json(scenario("clean_control"))["insights"] == []


def normalized(text: str) -> str:
    text = re.sub(r"@[0-9a-f]{6,}", "@ADDR", text)
    return re.sub(r"\d{8}-\d{6}-[0-9a-f]{4}", "RUN-ID", text)


def test_markdown_report_matches_the_golden_file(scenario) -> None:  # type: ignore[no-untyped-def]
    project = scenario("welcome_message_count")
    run_wsdoctor(project, "run", "--workers", "2")
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
