"""`wsdoctor ci --junit FILE`: JUnit XML as GitHub's, GitLab's and Jenkins' readers take it.

It follows the schema Jenkins' xUnit plugin publishes (junit-10.xsd), which allows properties on a
test suite only: each file is a suite, and its properties carry each finding's verdict, gate
status and insight ids as ``wsdoctor.verdict:NODEID`` (the name up to the first colon is the key,
the rest the node id). A testcase has a ``failure`` exactly when its finding fails the gate (new,
or baselined past its expiry date); accepted and merely reported findings are said in its
``system-out``. The first suite, ``wsdoctor gate``, holds one testcase that fails when the gate does.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping, Sequence
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from wsdoctor.analysis.gate import Finding, GateReport
from wsdoctor.records import Context, Outcome, TestResult

FAILING = ("failing", "expired")


def junit_xml(report: GateReport) -> str:
    root = Element("testsuites", name="wsdoctor ci")
    findings: dict[str, list[Finding]] = {}
    for finding in report.findings():
        findings.setdefault(finding.test, []).append(finding)
    results = _suite_results(report)
    suites = [_gate_suite(report), *(_file_suite(report, path, tests, findings, results)
                                     for path, tests in _tests_by_file(report))]
    root.extend(suites)
    root.set("tests", str(sum(int(s.get("tests", "0")) for s in suites)))
    root.set("failures", str(sum(int(s.get("failures", "0")) for s in suites)))
    root.set("errors", "0")
    root.set("time", _seconds(report.record.seconds))
    indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="unicode") + "\n"


def _suite(name: str, tests: int, failures: int, skipped: int, seconds: float) -> Element:
    return Element("testsuite", name=name, tests=str(tests), failures=str(failures), errors="0",
                   skipped=str(skipped), time=_seconds(seconds),
                   timestamp=time.strftime("%Y-%m-%dT%H:%M:%S"), hostname=socket.gethostname())


def _gate_suite(report: GateReport) -> Element:
    decision, ci = report.decision, report.ci
    suite = _suite("wsdoctor gate", 1, 0 if decision.passed else 1, 0, report.record.seconds)
    properties = SubElement(suite, "properties")
    for name, value in (("wsdoctor.run", report.record.id),
                        ("wsdoctor.gate", "passed" if decision.passed else "failed"),
                        ("wsdoctor.seed", "" if ci.seed is None else str(ci.seed)),
                        ("wsdoctor.shard", ci.shard or ""), ("wsdoctor.fail_on", ",".join(decision.fail_on)),
                        ("wsdoctor.baseline", ci.baseline), ("wsdoctor.reports", report.reports_dir)):
        SubElement(properties, "property", name=name, value=value)
    case = SubElement(suite, "testcase", name="gate", classname="wsdoctor", time=_seconds(report.record.seconds))
    lines = [f"{f.verdict} {f.test}" + (f" ({f.state})" if f.state else "")
             for f in (*decision.failing, *(f for f, _ in decision.expired))]
    if lines:
        failure = SubElement(case, "failure", type="gate", message=f"{len(lines)} finding(s) fail the gate")
        failure.text = "\n".join(lines)
    notes = [*(f"not bisected within the --budget: {v}" for v in decision.not_bisected),
             *(f"fixed (in the baseline, no longer found): {e.verdict} {e.test}" for e in decision.fixed),
             *ci.notes]
    if notes:
        SubElement(case, "system-out").text = "\n".join(notes)
    return suite


def _tests_by_file(report: GateReport) -> list[tuple[str, list[str]]]:
    """Every test and every file-level finding, by file, in the suite's order."""
    by_file: dict[str, list[str]] = {}
    collection = report.record.collection
    paths = {t.nodeid: t.path for t in collection.tests} if collection else {}
    for verdict in report.record.verdicts:
        path = paths.get(verdict.nodeid) or verdict.nodeid.split("::", 1)[0]
        by_file.setdefault(path, []).append(verdict.nodeid)
    for finding in report.findings():  # leaked state of a file's import: its own testcase
        tests = by_file.setdefault(finding.path, [])
        if finding.test not in tests:
            tests.append(finding.test)
    return list(by_file.items())


def _file_suite(report: GateReport, path: str, tests: Sequence[str], findings: Mapping[str, Sequence[Finding]],
                results: Mapping[str, TestResult]) -> Element:
    cases = [_testcase(report, nodeid, findings.get(nodeid, ()), results.get(nodeid)) for nodeid in tests]
    failures = sum(1 for case in cases if case.find("failure") is not None)
    skipped = sum(1 for case in cases if case.find("skipped") is not None)
    suite = _suite(path, len(cases), failures, skipped, sum(float(c.get("time", "0")) for c in cases))
    suite.set("file", path)
    properties = [(f"wsdoctor.{key}:{f.test}", value) for nodeid in tests for f in findings.get(nodeid, ())
                  for key, value in _finding_properties(report, f)]
    if properties:
        holder = SubElement(suite, "properties")
        for name, value in properties:
            SubElement(holder, "property", name=name, value=value)
    suite.extend(cases)
    return suite


def _finding_properties(report: GateReport, finding: Finding) -> list[tuple[str, str]]:
    found = [("verdict", finding.verdict), ("gate", report.gate_status(finding))]
    if finding.state:
        found.append(("state", finding.state))
    if report.insights.get(finding.test):
        found.append(("insight", " ".join(report.insights[finding.test])))
    return found


def _suite_results(report: GateReport) -> dict[str, TestResult]:
    """Each test's result in the first suite run that ran it: its time, and whether it was skipped."""
    results: dict[str, TestResult] = {}
    for plan_result in report.record.plan_results:
        if plan_result.plan.context is Context.SUITE:
            for result in plan_result.results:
                if result.outcome is not Outcome.NOT_RUN:
                    results.setdefault(result.nodeid, result)
    return results


def _testcase(report: GateReport, nodeid: str, findings: Sequence[Finding], result: TestResult | None) -> Element:
    classname, name = _names(nodeid)
    case = Element("testcase", name=name, classname=classname, time=_seconds(result.duration if result else 0.0))
    said = []
    for finding in findings:
        status = report.gate_status(finding)
        if status in FAILING:
            failure = SubElement(case, "failure", type=finding.verdict, message=_message(finding, status))
            failure.text = "\n".join(_details(report, finding, status))
        else:
            said.append(f"wsdoctor: {_message(finding, status)}")
    if result is not None and result.outcome is Outcome.SKIPPED and not findings:
        SubElement(case, "skipped", message=result.message or "skipped")
    if said:
        SubElement(case, "system-out").text = "\n".join(said)
    return case


def _message(finding: Finding, status: str) -> str:
    what = f"{finding.verdict}" + (f" ({finding.state})" if finding.state else "")
    entry = {"failing": "new", "expired": "its baseline entry expired", "accepted": "accepted by the baseline",
             "reported": "reported, not in --fail-on"}[status]
    return f"{what}, {entry}: {finding.reason}" if finding.reason else f"{what}, {entry}"


def _details(report: GateReport, finding: Finding, status: str) -> list[str]:
    lines = [_message(finding, status)]
    if finding.message:
        lines.append(finding.message)
    entry = report.decision.entry_for(finding)
    if entry is not None:
        lines.append(f"baseline: {entry.reason} (expired {entry.expires})")
    for bisect in report.record.bisects:
        if bisect.victim == finding.test and bisect.polluters:
            lines.append(f"polluters ({bisect.scope.value if bisect.scope else '?'}): {', '.join(bisect.polluters)}")
    verdict = next((v for v in report.record.verdicts if v.nodeid == finding.test), None)
    lines += [f"$ {command}" for command in (verdict.reproduce if verdict else ())]
    if report.insights.get(finding.test):
        lines.append(f"insight: {', '.join(report.insights[finding.test])}"
                     + (f" (reports in {report.reports_dir})" if report.reports_dir else ""))
    return lines


def _names(nodeid: str) -> tuple[str, str]:
    """pytest's classname (dotted module and classes) and name for a node id."""
    parts = nodeid.split("::")
    module = parts[0].removesuffix(".py").replace("/", ".")
    if len(parts) == 1:
        return module, parts[0]
    return ".".join([module, *parts[1:-1]]), parts[-1]


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"
