"""`wsdoctor report`'s input: CI artifacts of the wrong shape, output paths, formats (fast layer).

Bad input is one line and exit 2; an option is never ignored in silence; a CI artifact of any
size is read as a stream and alike failures become one insight with a count.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import assert_one_line_usage_error

JUNIT_CASE = ('<testcase classname="tests.test_{n}" name="test_{n}" time="0.01">'
              '<failure message="{message}">E   {message}</failure></testcase>')


def junit(*messages: str) -> str:
    cases = "".join(JUNIT_CASE.format(n=n, message=m) for n, m in enumerate(messages))
    return f'<?xml version="1.0"?><testsuites><testsuite name="pytest">{cases}</testsuite></testsuites>'


BAD_ARTIFACTS = [
    ("ci.json", '{"tests": "nope"}', "'tests' is not a list of objects"),
    ("ci.json", '{"tests": [1, "two"]}', "'tests' is not a list of objects"),
    ("ci.json", '{"tests": [{"nodeid": 5, "outcome": "failed"}]}', "tests[0] has no text 'nodeid'"),
    ("ci.json", '{"tests": [{"nodeid": "t.py::test_x", "outcome": "failed", "call": {"outcome": "failed", '
                '"crash": "boom"}}]}', "tests[0] (t.py::test_x) is not a pytest-json-report test entry"),
    ("ci.json", '{"tests": [], "collectors": {"a": 1}}', "'collectors' is not a list of objects"),
    ("ci.json", '{"tests": [], "warnings": [null]}', "'warnings' is not a list of objects"),
    ("ci.json", '{"tests": ' + "[" * 100_000 + "]" * 100_000 + "}", "nests too deeply"),
    ("ci.json", '["tests"]', "as a pytest-json-report file (not a JSON object)"),
    ("ci.json", '{"collectors": []}', "has no 'tests'"),
    ("ci.xml", "<html><body><p>not a test report</p></body></html>", "is XML but not JUnit XML (its root is <html>"),
    ("ci.xml", "<testsuites><testsuite>", "is not JUnit XML"),
    ("ci.xml", '<!DOCTYPE x [<!ENTITY a "aaaa">]><testsuites/>', "declares a DOCTYPE or entities"),
]


@pytest.mark.parametrize(("name", "text", "expected"), BAD_ARTIFACTS)
def test_an_artifact_of_the_wrong_shape_is_one_line_and_exit_2(tmp_path: Path, name: str, text: str, expected: str,
                                                              wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / name).write_text(text)
    option = "--from-junit" if name.endswith(".xml") else "--from-json-report"
    done = wsdoctor_in_process(tmp_path, "report", option, name)
    assert_one_line_usage_error(done.stderr, done.exit_code, expected)


def test_a_json_report_that_cannot_be_one_is_refused_from_its_first_bytes(tmp_path: Path,
                                                                         wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    """main read /dev/zero whole, until the memory ran out (the process was killed)."""
    done = wsdoctor_in_process(tmp_path, "report", "--from-json-report", "/dev/zero")
    assert_one_line_usage_error(done.stderr, done.exit_code, "/dev/zero as a pytest-json-report file (not a JSON")


@pytest.mark.parametrize(("args", "expected"), [
    (["--out", "report.txt"], "cannot tell the format from '.txt'"),
    (["--format", "terminal", "--out", "report.md"], "the terminal format prints to the screen"),
])
def test_an_output_option_is_never_ignored_in_silence(tmp_path: Path, args: list[str], expected: str,
                                                     wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "ci.xml").write_text(junit("assert 1 == 2"))
    done = wsdoctor_in_process(tmp_path, "report", "--from-junit", "ci.xml", *args)
    assert_one_line_usage_error(done.stderr, done.exit_code, expected)
    assert not (tmp_path / args[-1]).exists()


def test_the_format_follows_the_output_path(tmp_path: Path, wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "ci.xml").write_text(junit("assert 1 == 2"))
    (tmp_path / "existing-dir").mkdir()
    for out in ("report.md", "report.html", "report.json", "pages", "existing-dir"):
        done = wsdoctor_in_process(tmp_path, "report", "--from-junit", "ci.xml", "--out", out)
        assert done.exit_code == 0, done.stderr
    assert (tmp_path / "report.md").read_text().startswith("# wsdoctor postmortem of ci.xml\n")
    assert "\n## 1. fail: tests/test_0.py::test_0\n" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "report.html").read_text().startswith("<!doctype html>")
    assert json.loads((tmp_path / "report.json").read_text())["schema"] == 1
    assert (tmp_path / "pages" / "README.md").exists() and (tmp_path / "existing-dir" / "README.md").exists()


def test_alike_failures_of_a_junit_file_are_one_insight_with_a_count(tmp_path: Path,
                                                                    wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    messages = [f"assert {n} == {n + 1}" for n in range(3000)] + ["KeyError: 'room'"] * 5
    (tmp_path / "ci.xml").write_text(junit(*messages))
    done = wsdoctor_in_process(tmp_path, "report", "--from-junit", "ci.xml", "--out", "r.json")
    insights = json.loads((tmp_path / "r.json").read_text())["insights"]
    assert done.exit_code == 0, done.stderr
    assert sorted(len(i["tests"]) for i in insights) == [5, 3000]
    big = next(i for i in insights if len(i["tests"]) == 3000)
    assert big["title"] == "fail: tests/test_0.py::test_0 and 2999 more"
    assert "3000 tests fail the same way" in big["phenomenon"]
    assert len(big["evidence"]) == 1 and len(big["evidence"][0]["same_in"]) == 2999
