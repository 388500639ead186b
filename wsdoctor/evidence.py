"""Test evidence for the report: from a run record, or from a CI artifact (the parsing edge for reports)."""

from __future__ import annotations

import ast
import dataclasses
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wsdoctor.analysis.audit import significant
from wsdoctor.analysis.causes import fold_alike
from wsdoctor.analysis.observations import summarize
from wsdoctor.analysis.static import scan_source
from wsdoctor.childio import test_result
from wsdoctor.codec import read_bounded
from wsdoctor.exits import UsageError
from wsdoctor.project_names import ProjectSources, names_for
from wsdoctor.records import (
    BisectRecord,
    BisectResult,
    Collection,
    PlanResult,
    RunRecord,
    StateChange,
    StaticFinding,
    TestEvidence,
    TestResult,
    TestVerdict,
    Verdict,
)
from wsdoctor.text import coroutine_origin, error_summary, without_origin

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element


def from_run(record: RunRecord, later_bisects: Sequence[BisectResult] = ()) -> list[TestEvidence]:
    """Every finding of a run (and every passing test with warnings or static findings), with
    what its bisects found; a bisect of the same victim made later wins."""
    bisects = {b.victim: b for b in (*record.bisects, *later_bisects)}
    static = _StaticIndex(Path(record.cwd))
    project = _project(record.cwd, record.collection)
    origins = _CoroutineOrigins(record)
    found = []
    for verdict in record.verdicts:
        item = _evidence(verdict, record.plan_results, bisects.get(verdict.nodeid), static, record, origins)
        if item is not None:
            found.append(dataclasses.replace(item, facts=(*names_for(item, project), *origins.facts(item))))
    found = _with_lingering_threads(record, found)
    return found + [dataclasses.replace(item, facts=names_for(item, project)) for item in _audit_evidence(record)]


def _audit_evidence(record: RunRecord) -> list[TestEvidence]:
    """What run --audit found each test (or file import) left changed that can break another test."""
    by_test: dict[str, list[StateChange]] = {}
    for change in significant(record.audit()):
        by_test.setdefault(change.by, []).append(change)
    return [TestEvidence(nodeid=by, verdict=Verdict.PASS, leaked=tuple(changes), from_audit=True,
                         outcomes=(f"left {len(changes)} change(s) behind that can break another test (run --audit)",))
            for by, changes in by_test.items()]


class _CoroutineOrigins:
    """A "coroutine ... was never awaited" warning belongs to the test that created the coroutine.

    pytest reports it under whichever test the garbage collector ran in. The child tracks where
    coroutines are created, so the warning's text names the frames: the innermost frame in a
    collected test file names the test. Without those frames the origin is unknown, and the
    report says so instead of guessing.
    """

    def __init__(self, record: RunRecord) -> None:
        self.rootdir = Path(record.collection.rootdir) if record.collection else Path(record.cwd)
        tests = record.collection.tests if record.collection else ()
        self.by_function = {(t.path, t.nodeid.rsplit("::", 1)[-1].split("[")[0]): t.nodeid for t in tests}
        self.test_files = {t.path for t in tests}
        self.created: dict[str, list[tuple[str, str, str]]] = {}  # creator -> (warning, at, reported under)
        self.moved: set[tuple[str, str]] = set()  # (reported under, warning)
        self.unknown: dict[str, list[str]] = {}
        for plan_result in record.plan_results:
            for result in plan_result.results:
                for warning in result.warnings:
                    self._attribute(result.nodeid, warning)

    def _attribute(self, reported_under: str, warning: str) -> None:
        if "was never awaited" not in warning:
            return
        origin = self._origin(warning)
        if origin is None:
            self.unknown.setdefault(reported_under, []).append(warning)
            return
        creator, at = origin
        entry = (without_origin(warning), at, reported_under)
        if entry not in self.created.setdefault(creator, []):
            self.created[creator].append(entry)
        if creator != reported_under:
            self.moved.add((reported_under, warning))

    def _origin(self, warning: str) -> tuple[str, str] | None:
        for path, line, function in reversed(coroutine_origin(warning)):
            shown = self._relative(path)
            if shown in self.test_files:
                return self.by_function.get((shown, function), f"{shown}::{function}"), f"{shown}:{line}"
        return None

    def _relative(self, path: str) -> str:
        try:
            return Path(path).relative_to(self.rootdir).as_posix()
        except ValueError:
            return path

    def warnings_of(self, nodeid: str, own: Sequence[str]) -> tuple[str, ...]:
        kept = [w for w in own if (nodeid, w) not in self.moved]
        kept += [warning for warning, _, _ in self.created.get(nodeid, ()) if warning not in kept]
        return tuple(dict.fromkeys(without_origin(w) for w in kept))

    def facts(self, item: TestEvidence) -> tuple[tuple[str, str], ...]:
        """created_by, created_at and reported_under when the origin is known, else warned_in."""
        nodeid = item.nodeid
        created = self.created.get(nodeid)
        if created:
            _, at, reported_under = created[0]
            return _origin_facts(nodeid, at, reported_under)
        if "was never awaited" in item.text:  # -W error: the warning failed the test it was reported under
            origin = self._origin(item.text)
            return _origin_facts(*origin, nodeid) if origin else (("warned_in", nodeid),)
        return (("warned_in", nodeid),) if nodeid in self.unknown else ()


def _project(cwd: str, collection: Collection | None) -> ProjectSources:
    roots = [Path(cwd), *([Path(collection.rootdir)] if collection and collection.rootdir else [])]
    return ProjectSources(roots)


def _with_lingering_threads(record: RunRecord, found: list[TestEvidence]) -> list[TestEvidence]:
    """A thread that kept a session from exiting is state its test left behind: evidence for that test."""
    by_test = {item.nodeid: item for item in found}
    verdicts = {v.nodeid: v.verdict for v in record.verdicts}
    for label, child in record.lingering():
        for thread in child.threads_alive:
            if not thread.started_by:
                continue
            leak = StateChange(kind="thread", name=thread.name, before=None, by=thread.started_by,
                               after="alive (not a daemon) after the last test: the process never exits")
            item = by_test.get(thread.started_by) or TestEvidence(
                nodeid=thread.started_by, verdict=verdicts.get(thread.started_by, Verdict.PASS),
                message=f"the pytest session did not exit: thread {thread.name} was still alive",
                outcomes=(f"session did not exit ({label})",),
                commands=(f"python -m pytest -p no:randomly {thread.started_by}  # never exits",))
            if leak not in item.leaked:
                by_test[thread.started_by] = dataclasses.replace(item, leaked=(*item.leaked, leak))
    return list(by_test.values())


def from_bisect(record: BisectRecord) -> list[TestEvidence]:
    """A bisect's victim: what it failed with, what broke it, and the state left behind."""
    result = record.result
    if result is None:
        return []
    collection = record.collection
    path = collection.path_of(result.victim) if collection else result.victim.split("::")[0]
    failure = result.failure
    item = TestEvidence(
        nodeid=result.victim, verdict=result.verdict, message=failure.message if failure else "",
        text=failure.longrepr if failure else "", warnings=failure.warnings if failure else (),
        leaked=result.leaked_state, polluters=result.polluters, scope=result.scope,
        static=_StaticIndex(Path(record.cwd)).findings(result.victim, path),
        outcomes=(_bisect_outcome(result),), commands=result.reproduce)
    return [dataclasses.replace(item, facts=names_for(item, _project(record.cwd, collection)))]


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


def _origin_facts(creator: str, at: str, reported_under: str) -> tuple[tuple[str, str], ...]:
    function = creator.rsplit("::", 1)[-1].split("[")[0]
    found = (("created_by", creator), ("created_at", at), ("creator_test", function))
    return (*found, ("reported_under", reported_under)) if reported_under != creator else found


def _evidence(verdict: TestVerdict, plan_results: Iterable[PlanResult], bisect: BisectResult | None,
              static: _StaticIndex, record: RunRecord, origins: _CoroutineOrigins) -> TestEvidence | None:
    collection = record.collection
    path = collection.path_of(verdict.nodeid) if collection else verdict.nodeid.split("::")[0]
    results = [r for plan_result in plan_results for r in [plan_result.result_of(verdict.nodeid)] if r is not None]
    failing = next((r for r in results if not r.outcome.is_good and r.message), None)
    warnings = origins.warnings_of(verdict.nodeid, [w for r in results for w in r.warnings])
    findings = static.findings(verdict.nodeid, path) if "::" in verdict.nodeid else ()
    if not verdict.verdict.is_finding and not (findings or warnings):
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

MAX_ARTIFACT_TEXT = 20_000  # of one failure's text: its end, where the error is


def from_json_report(path: Path) -> list[TestEvidence]:
    """pytest-json-report's file: failed tests, failed collectors, and warnings per test."""
    data = _read_json(path)
    warnings: dict[str, list[str]] = {}
    for warning in _entries(data, "warnings", path):
        warnings.setdefault(str(warning.get("nodeid", "")), []).append(
            f"{warning.get('category', 'Warning')}: {warning.get('message', '')}")
    found = [TestEvidence(nodeid=str(c.get("nodeid", "")), verdict=Verdict.COLLECTION_ERROR,
                          text=_clipped(str(c.get("longrepr", ""))),
                          message=error_summary(str(c.get("longrepr", ""))), from_run=False)
             for c in _entries(data, "collectors", path) if c.get("outcome") == "failed"]
    for index, entry in enumerate(_entries(data, "tests", path)):
        result = _json_test_result(entry, index, path)
        nodeid_warnings = tuple(warnings.get(result.nodeid, ()))
        if result.outcome.is_good and not nodeid_warnings:
            continue
        found.append(TestEvidence(nodeid=result.nodeid, verdict=Verdict.FAIL if result.outcome.is_bad else Verdict.PASS,
                                  message=result.message, text=_clipped(result.longrepr), warnings=nodeid_warnings,
                                  outcomes=(f"CI: {result.outcome.value}",), from_run=False))
    return fold_alike(found)


MAX_JSON_REPORT = 1 << 30  # bytes of a pytest-json-report file


def _read_json(path: Path) -> dict[str, Any]:
    """The whole file (JSON cannot be streamed here): /dev/zero or a binary is refused from its first
    bytes, a file larger than a report can be read is refused, not read until the memory runs out."""
    try:
        data = json.loads(read_bounded(path, MAX_JSON_REPORT, json_object=True))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UsageError(f"cannot read {path} as a pytest-json-report file ({error})") from None
    except RecursionError:
        raise UsageError(f"{path} nests too deeply to be a pytest-json-report file") from None
    if not isinstance(data, dict) or "tests" not in data:
        raise UsageError(f"{path} has no 'tests': write it with pytest --json-report")
    return data


def _entries(data: dict[str, Any], key: str, path: Path) -> list[dict[str, Any]]:
    """``data[key]``, a list of objects; anything else is not what pytest-json-report writes."""
    entries = data.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise UsageError(f"{path}: '{key}' is not a list of objects, as pytest --json-report writes it")
    return entries


def _json_test_result(entry: dict[str, Any], index: int, path: Path) -> TestResult:
    if not isinstance(entry.get("nodeid"), str):
        raise UsageError(f"{path}: tests[{index}] has no text 'nodeid', as pytest --json-report writes it")
    try:
        return test_result(entry)
    except (TypeError, ValueError, AttributeError) as error:
        raise UsageError(f"{path}: tests[{index}] ({entry['nodeid']}) is not a pytest-json-report test "
                         f"entry ({error})") from None


def _clipped(text: str) -> str:
    return text if len(text) <= MAX_ARTIFACT_TEXT else "[…]\n" + text[-MAX_ARTIFACT_TEXT:]


_JUNIT_ROOTS = ("testsuites", "testsuite")


def from_junit(path: Path) -> list[TestEvidence]:
    """A JUnit XML file (pytest --junitxml): failures and errors, read as a stream; node ids are approximate."""
    return fold_alike(item for case in _junit_cases(path) for item in [_junit_case(case)] if item is not None)


def _junit_cases(path: Path) -> Iterator[Element]:
    """Each <testcase>, parsed as the file is read and then dropped, so memory does not grow with the file."""
    from xml.etree.ElementTree import ParseError  # XML is read only for a JUnit postmortem

    import defusedxml
    from defusedxml import ElementTree as SafeElementTree

    try:
        with path.open("rb") as stream:
            opened: list[Element] = []
            for event, element in SafeElementTree.iterparse(stream, events=("start", "end"), forbid_dtd=True):
                if event == "start":
                    if not opened and element.tag not in _JUNIT_ROOTS:
                        raise UsageError(f"{path} is XML but not JUnit XML (its root is <{element.tag}>, not "
                                         "<testsuites> or <testsuite>); pass the file pytest --junitxml wrote")
                    opened.append(element)
                    continue
                opened.pop()
                if element.tag == "testcase":
                    yield element
                    if opened:
                        opened[-1].remove(element)
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error}") from None
    except defusedxml.DefusedXmlException:
        raise UsageError(f"{path} declares a DOCTYPE or entities; a JUnit report needs neither") from None
    except ParseError as error:
        raise UsageError(f"{path} is not JUnit XML ({error}); pass the file pytest --junitxml wrote") from None


def _junit_case(case: Element) -> TestEvidence | None:
    problem = case.find("failure")
    if problem is None:
        problem = case.find("error")
    if problem is None:
        return None
    body = _clipped((problem.text or "").strip())
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
