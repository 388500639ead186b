"""Test evidence for the report: from a run record, or from a CI artifact (the parsing edge for reports)."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml
from defusedxml import ElementTree as SafeElementTree

from wsdoctor.analysis.observations import summarize
from wsdoctor.analysis.static import scan_source
from wsdoctor.childio import test_result
from wsdoctor.exits import UsageError
from wsdoctor.records import (
    BisectRecord,
    BisectResult,
    PlanResult,
    RunRecord,
    StaticFinding,
    TestEvidence,
    TestVerdict,
    Verdict,
)
from wsdoctor.text import error_summary


def from_run(record: RunRecord, later_bisects: Sequence[BisectResult] = ()) -> list[TestEvidence]:
    """Every finding of a run (and every passing test with warnings or static findings), with
    what its bisects found; a bisect of the same victim made later wins."""
    bisects = {b.victim: b for b in (*record.bisects, *later_bisects)}
    static = _StaticIndex(Path(record.cwd))
    found = []
    for verdict in record.verdicts:
        item = _evidence(verdict, record.plan_results, bisects.get(verdict.nodeid), static, record)
        if item is not None:
            found.append(item)
    return found


def from_bisect(record: BisectRecord) -> list[TestEvidence]:
    """A bisect's victim: what it failed with, what broke it, and the state left behind."""
    result = record.result
    if result is None:
        return []
    collection = record.collection
    path = collection.path_of(result.victim) if collection else result.victim.split("::")[0]
    failure = result.failure
    return [TestEvidence(
        nodeid=result.victim, verdict=result.verdict, message=failure.message if failure else "",
        text=failure.longrepr if failure else "", warnings=failure.warnings if failure else (),
        leaked=result.leaked_state, polluters=result.polluters, scope=result.scope,
        static=_StaticIndex(Path(record.cwd)).findings(result.victim, path),
        outcomes=(_bisect_outcome(result),), commands=result.reproduce)]


def _bisect_outcome(result: BisectResult) -> str:
    return f"bisect: {result.verdict.value}: {result.summary} ({result.trials} child runs)"


class _StaticIndex:
    """Static findings and function extents of each test file, read once per file."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.cache: dict[str, tuple[tuple[StaticFinding, ...], dict[str, list[range]]]] = {}

    def findings(self, nodeid: str, path: str) -> tuple[StaticFinding, ...]:
        if path not in self.cache:
            source = _read_source(self.cwd / path)
            self.cache[path] = (scan_source(source, path), _function_lines(source))
        found, functions = self.cache[path]
        function = nodeid.rsplit("::", 1)[-1].split("[")[0]
        spans = functions.get(function, [])
        return tuple(f for f in found if f.id == "sys-modules-assignment"
                     or any(f.line in span for span in spans))


def _read_source(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _function_lines(source: str) -> dict[str, list[range]]:
    """The lines of every function in ``source``, by name (a name may be defined more than once)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    spans: dict[str, list[range]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            spans.setdefault(node.name, []).append(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return spans


def _evidence(verdict: TestVerdict, plan_results: Iterable[PlanResult], bisect: BisectResult | None,
              static: _StaticIndex, record: RunRecord) -> TestEvidence | None:
    collection = record.collection
    path = collection.path_of(verdict.nodeid) if collection else verdict.nodeid.split("::")[0]
    results = [r for plan_result in plan_results for r in [plan_result.result_of(verdict.nodeid)] if r is not None]
    failing = next((r for r in results if not r.outcome.is_good and r.message), None)
    warnings = tuple(dict.fromkeys(w for r in results for w in r.warnings))
    findings = static.findings(verdict.nodeid, path) if "::" in verdict.nodeid else ()
    if verdict.verdict is Verdict.PASS and not (findings or warnings):
        return None
    text = failing.longrepr if failing else _collection_text(record, verdict.nodeid) or verdict.detail
    outcomes = [summarize(verdict.observations)] if verdict.observations else []
    commands = list(verdict.reproduce)
    if bisect is not None:
        outcomes.append(_bisect_outcome(bisect))
        commands = list(bisect.reproduce) or commands
    return TestEvidence(
        nodeid=verdict.nodeid, verdict=verdict.verdict,
        message=failing.message if failing else verdict.detail, text=text, warnings=warnings,
        leaked=bisect.leaked_state if bisect else (), polluters=bisect.polluters if bisect else (),
        scope=bisect.scope if bisect else None, static=findings,
        outcomes=(verdict.reason, *outcomes), commands=tuple(commands))


def _collection_text(record: RunRecord, path: str) -> str:
    errors = record.collection.errors if record.collection else ()
    return next((e.message for e in errors if e.path == path), "")


# --- CI artifacts -----------------------------------------------------------------------------


def from_json_report(path: Path) -> list[TestEvidence]:
    """pytest-json-report's file: failed tests, failed collectors, and warnings per test."""
    data = _read_json(path)
    warnings: dict[str, list[str]] = {}
    for warning in data.get("warnings", ()):
        warnings.setdefault(str(warning.get("nodeid", "")), []).append(
            f"{warning.get('category', 'Warning')}: {warning.get('message', '')}")
    found = [TestEvidence(nodeid=c["nodeid"], verdict=Verdict.COLLECTION_ERROR, text=str(c.get("longrepr", "")),
                          message=error_summary(str(c.get("longrepr", ""))), from_run=False)
             for c in data.get("collectors", ()) if c.get("outcome") == "failed"]
    for entry in data.get("tests", ()):
        result = test_result(entry)
        nodeid_warnings = tuple(warnings.get(result.nodeid, ()))
        if result.outcome.is_good and not nodeid_warnings:
            continue
        found.append(TestEvidence(nodeid=result.nodeid, verdict=Verdict.FAIL if result.outcome.is_bad else Verdict.PASS,
                              message=result.message, text=result.longrepr, warnings=nodeid_warnings,
                              outcomes=(f"CI: {result.outcome.value}",), from_run=False))
    return found


def from_junit(path: Path) -> list[TestEvidence]:
    """A JUnit XML file (pytest --junitxml): failures and errors; node ids are approximate."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {path}: {error}") from None
    try:
        root = SafeElementTree.fromstring(text, forbid_dtd=True)
    except defusedxml.DefusedXmlException:
        raise UsageError(f"{path} declares a DOCTYPE or entities; a JUnit report needs neither") from None
    except ParseError as error:
        raise UsageError(f"{path} is not JUnit XML ({error}); pass the file pytest --junitxml wrote") from None
    return [item for case in root.iter("testcase") for item in [_junit_case(case)] if item is not None]


def _junit_case(case: Element) -> TestEvidence | None:
    problem = case.find("failure")
    if problem is None:
        problem = case.find("error")
    if problem is None:
        return None
    body = (problem.text or "").strip()
    message = problem.get("message", "") or error_summary(body)
    name, classname = case.get("name", ""), case.get("classname", "")
    if (not name and "collection" in message.lower()) or "while importing test module" in body:
        return TestEvidence(nodeid=_junit_file(classname) or name, verdict=Verdict.COLLECTION_ERROR,
                        message=error_summary(body) or message, text=body, from_run=False)
    return TestEvidence(nodeid=_junit_nodeid(classname, name), verdict=Verdict.FAIL, message=message.splitlines()[0]
                    if message else "", text=body, outcomes=(f"CI: {problem.tag}",), from_run=False)


def _junit_nodeid(classname: str, name: str) -> str:
    parts = classname.split(".")
    classes = [p for p in parts if p[:1].isupper()]
    modules = [p for p in parts if not p[:1].isupper()]
    return "::".join(["/".join(modules) + ".py", *classes, name]) if modules else name


def _junit_file(classname: str) -> str:
    return classname.replace(".", "/") + ".py" if classname else ""


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UsageError(f"cannot read {path} as a pytest-json-report file ({error})") from None
    if not isinstance(data, dict) or "tests" not in data:
        raise UsageError(f"{path} has no 'tests': write it with pytest --json-report")
    return data
