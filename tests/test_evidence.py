"""Test evidence from CI artifacts (JUnit XML, pytest-json-report): what is read, what is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wsdoctor.evidence import from_json_report, from_junit
from wsdoctor.exits import UsageError
from wsdoctor.records import Verdict

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" tests="3">
  <testcase classname="tests.test_stats" name="test_connection_stats">
    <failure message="assert 11 == 1">def test_connection_stats():
&gt;       assert manager.count() == 1
E       assert 11 == 1</failure>
  </testcase>
  <testcase classname="tests.test_ok" name="test_fine"/>
  <testcase classname="tests.test_broken" name="">
    <error message="collection failure">ImportError while importing test module 'tests/test_broken.py'.
E   ModuleNotFoundError: No module named 'websockets.legacy'</error>
  </testcase>
</testsuite></testsuites>
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_junit_failures_and_collection_errors_become_evidence(tmp_path: Path) -> None:
    found = from_junit(write(tmp_path, "ci.xml", JUNIT))
    assert [(e.nodeid, e.verdict, e.message, e.from_run) for e in found] == [
        ("tests/test_stats.py::test_connection_stats", Verdict.FAIL, "assert 11 == 1", False),
        ("tests/test_broken.py", Verdict.COLLECTION_ERROR, "ModuleNotFoundError: No module named 'websockets.legacy'",
         False)]
    assert found[0].outcomes == ("CI: failure",)


@pytest.mark.parametrize(("text", "expected"), [
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><testsuite>&a;</testsuite>',
     "declares a DOCTYPE or entities"),
    ('<!DOCTYPE testsuite SYSTEM "http://example.invalid/x.dtd"><testsuite/>', "declares a DOCTYPE or entities"),
    ("<testsuite><testcase></testsuite>", "is not JUnit XML"),
])
def test_junit_that_is_unsafe_or_broken_is_refused_in_one_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(UsageError, match=expected):
        from_junit(write(tmp_path, "ci.xml", text))


def test_a_json_report_gives_failures_collection_errors_and_warnings(tmp_path: Path) -> None:
    report = {"tests": [
        {"nodeid": "t.py::test_fails", "outcome": "failed",
         "call": {"outcome": "failed", "crash": {"message": "assert 1 == 2"}, "longrepr": "E   assert 1 == 2"}},
        {"nodeid": "t.py::test_passes", "outcome": "passed", "call": {"outcome": "passed"}},
        {"nodeid": "t.py::test_warns", "outcome": "passed", "call": {"outcome": "passed"}}],
        "collectors": [{"nodeid": "u.py", "outcome": "failed", "longrepr": "E   ImportError: nope"}],
        "warnings": [{"nodeid": "t.py::test_warns", "category": "RuntimeWarning",
                      "message": "coroutine 'x' was never awaited"}]}
    found = from_json_report(write(tmp_path, "r.json", json.dumps(report)))
    assert [(e.nodeid, e.verdict, e.message, e.warnings) for e in found] == [
        ("u.py", Verdict.COLLECTION_ERROR, "ImportError: nope", ()),
        ("t.py::test_fails", Verdict.FAIL, "assert 1 == 2", ()),
        ("t.py::test_warns", Verdict.PASS, "", ("RuntimeWarning: coroutine 'x' was never awaited",))]


@pytest.mark.parametrize(("text", "expected"), [
    ("{not json", "cannot read"), ('{"created": 1}', "has no 'tests'"), ("[1, 2]", "not a JSON object")])
def test_a_json_report_that_is_not_one_is_refused(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(UsageError, match=expected):
        from_json_report(write(tmp_path, "r.json", text))
