"""Test evidence -> insights: match what the runs, bisects and static checks found against playbooks."""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from wsdoctor.analysis.causes import cause_key
from wsdoctor.analysis.patterns import BoundedMatcher
from wsdoctor.analysis.templates import Value, fill
from wsdoctor.playbook import Condition, Playbook
from wsdoctor.records import Confidence, StateChange, TestEvidence
from wsdoctor.text import shown_value
from wsdoctor.versions import version_satisfies


@dataclass(frozen=True, slots=True)
class Insight:
    playbook: str | None
    title: str
    phenomenon: str
    cause: str
    solution: str
    lesson: str
    confidence: Confidence
    tests: tuple[str, ...]
    evidence: tuple[TestEvidence, ...]
    references: tuple[str, ...] = ()
    needs_run: bool = False  # matched on text alone; a `wsdoctor run` (and bisect) would confirm


def insights_for(evidence: Sequence[TestEvidence], playbooks: Sequence[Playbook], versions: dict[str, str],
                 matcher: BoundedMatcher | None = None) -> list[Insight]:
    """One insight per cause: per playbook that matched, and within it per bisected cause (same
    polluters, same leaked state); failures no playbook explains are grouped by their cause too."""
    matcher = matcher if matcher is not None else BoundedMatcher()
    usable = [p for p in playbooks if all(version_satisfies(versions.get(name, ""), spec)
                                          for name, spec in p.requires)]
    grouped: dict[tuple[str, Hashable], list[tuple[TestEvidence, dict[str, str], Condition]]] = {}
    unmatched: dict[Hashable, list[TestEvidence]] = {}
    causes = _polluter_causes(evidence)
    for item in evidence:
        matches = [(p, found) for p in usable for found in [_match(p, item, versions, matcher)] if found is not None]
        for playbook, (groups, condition) in matches:
            grouped.setdefault((playbook.id, _cause_of(item, causes)), []).append((item, groups, condition))
        if not matches and item.verdict.is_finding and not item.from_audit:
            unmatched.setdefault(cause_key(item), []).append(item)
    by_id = {p.id: p for p in usable}
    insights = [_insight(by_id[pid], hits, versions) for (pid, _), hits in grouped.items()]
    insights.sort(key=lambda i: (-i.confidence.rank, i.playbook or "", -len(i.tests)))
    return insights + [_unmatched(items) for items in unmatched.values()]


def _polluter_causes(evidence: Sequence[TestEvidence]) -> dict[str, Hashable]:
    """Each polluter (a test, or a file whose import pollutes) and the one cause it was proven in."""
    found: dict[str, set[Hashable]] = {}
    for item in evidence:
        for polluter in item.polluters:
            found.setdefault(polluter, set()).add(cause_key(item))
    return {polluter: next(iter(keys)) for polluter, keys in found.items() if len(keys) == 1}


def _cause_of(item: TestEvidence, causes: dict[str, Hashable]) -> Hashable:
    """A victim's cause; a polluter's own evidence (its static finding) joins the cause it was proven in."""
    if item.polluters:
        return cause_key(item)
    return causes.get(item.nodeid, causes.get(item.nodeid.split("::", 1)[0]))


def _match(playbook: Playbook, item: TestEvidence, versions: dict[str, str],
           matcher: BoundedMatcher) -> tuple[dict[str, str], Condition] | None:
    for condition in playbook.match:
        if not all(version_satisfies(versions.get(name, ""), spec) for name, spec in condition.requires):
            continue
        groups = _condition_groups(condition, item, matcher, playbook.id)
        if groups is not None:
            return groups, condition
    return None


def _condition_groups(condition: Condition, item: TestEvidence, matcher: BoundedMatcher,
                      owner: str) -> dict[str, str] | None:
    """The named groups the condition captured, or None when it does not hold."""
    groups: dict[str, str] = {}
    if condition.audit is not item.from_audit:  # state left behind is told apart from a failure
        return None
    if condition.verdicts and item.verdict not in condition.verdicts:
        return None
    if condition.scopes and item.scope not in condition.scopes:
        return None
    if condition.static and not {f.id for f in item.static} & set(condition.static):
        return None
    failure_texts = (item.message, _without_error_prefixes(item.text), item.text)
    for pattern, texts in ((condition.failure, failure_texts), (condition.warning, item.warnings)):
        if pattern is None:
            continue
        found = matcher.search(pattern, texts, owner)
        if found is None:
            return None
        groups.update({k: v for k, v in found.groupdict().items() if v is not None})
    if condition.leaked and not any(_leak_matches(condition.leaked, leak, matcher, owner) for leak in item.leaked):
        return None
    return groups


_ERROR_PREFIX = re.compile(r"^E {1,}", re.MULTILINE)


def _without_error_prefixes(text: str) -> str:
    """pytest's failure text with its 'E   ' line prefixes removed, as the error itself reads."""
    return _ERROR_PREFIX.sub("", text)


def _leak_matches(wanted: tuple[tuple[str, str], ...], leak: StateChange, matcher: BoundedMatcher,
                  owner: str) -> bool:
    fields = {"kind": leak.kind, "name": leak.name, "before": leak.before or "", "after": leak.after or ""}
    return all(fields[key] == pattern if key == "kind"
               else matcher.search(pattern, [fields[key]], owner, skip_empty=False) is not None
               for key, pattern in wanted)


def _insight(playbook: Playbook, hits: list[tuple[TestEvidence, dict[str, str], Condition]],
             versions: dict[str, str]) -> Insight:
    first, groups, condition = max(hits, key=lambda hit: len(hit[0].leaked))  # the best-proven one
    tests = tuple(dict.fromkeys(test for hit in hits for test in hit[0].tests))
    values = {**placeholders(first, versions, tests), **groups}
    needs_run = not first.from_run and not (condition.leaked or condition.scopes or condition.static)
    return Insight(
        playbook=playbook.id, title=playbook.title,
        phenomenon=fill(playbook.phenomenon, values), cause=fill(playbook.cause, values),
        solution=fill(playbook.solution, values), lesson=fill(playbook.lesson, values),
        confidence=_confidence(playbook, condition, first), tests=tests,
        evidence=tuple(h[0] for h in hits), references=playbook.references, needs_run=needs_run)


def _confidence(playbook: Playbook, condition: Condition, item: TestEvidence) -> Confidence:
    steps = 0
    if condition.leaked or condition.scopes:
        steps += 1  # bisect proved the polluter and named the state
    if not item.from_run or (condition.static and not (condition.failure or condition.verdicts)):
        steps -= 1  # text or source alone, nothing reproduced
    return playbook.confidence.moved(steps)


def placeholders(item: TestEvidence, versions: dict[str, str], tests: tuple[str, ...] = ()) -> dict[str, Value]:
    """What a template may say about this evidence; a name with no evidence is simply absent."""
    leak = item.leaked[0] if item.leaked else None
    others = tuple(t for t in tests if t != item.nodeid)
    values: dict[str, Value] = {
        "victim": item.nodeid, "verdict": item.verdict.value, "message": item.message,
        "polluters": item.polluters, "scope": item.scope.value if item.scope else "",
        "python": versions.get("python", ""), "pytest": versions.get("pytest", ""),
        "pytest_asyncio": versions.get("pytest-asyncio", ""), "websockets": versions.get("websockets", ""),
        "other_tests": others[:MAX_TESTS_NAMED] + ((f"{len(others) - MAX_TESTS_NAMED} more",)
                                                    if len(others) > MAX_TESTS_NAMED else ()),
        "tests_count": str(len(tests)) if len(tests) > 1 else ""}
    if leak is not None:
        values.update(leaked_kind=leak.kind, leaked_name=leak.name, leaked_before=shown_value(leak.before),
                      leaked_after=shown_value(leak.after))
    values.update(dict(item.facts))
    return {k: v for k, v in values.items() if v}


MAX_TESTS_NAMED = 10


def _unmatched(items: list[TestEvidence]) -> Insight:
    """Never silence: what failed, where, after what; alike failures together, with their count."""
    item = max(items, key=lambda i: len(i.leaked))
    tests = tuple(dict.fromkeys(test for i in items for test in i.tests))
    values = placeholders(item, {}, tests)
    values["leaked"] = tuple(f"{c.kind} {c.name}: {shown_value(c.before)} → {shown_value(c.after)}"
                             for c in item.leaked[:3])
    more = f" and {len(tests) - 1} more" if len(tests) > 1 else ""
    return Insight(
        playbook=None, title=f"{item.verdict.value}: {item.nodeid}{more}",
        phenomenon=fill(UNMATCHED_PHENOMENON, values), cause=fill(UNMATCHED_CAUSE, values),
        solution=UNMATCHED_SOLUTION, lesson="Every unexplained failure is a playbook not yet written.",
        confidence=Confidence.LOW, tests=tests, evidence=tuple(items), needs_run=not item.from_run)


UNMATCHED_PHENOMENON = """\
{victim} is {verdict}: {message:it gave no failure message}
It fails after {polluters}.
{tests_count} tests fail the same way; besides this one: {other_tests}.
"""
UNMATCHED_CAUSE = """\
No playbook explains this failure yet; the evidence below is what is known.
It leaves behind or finds: {leaked}.
"""
UNMATCHED_SOLUTION = ("Reproduce it with the commands below, read the failure text, and, if it is a family "
                      "worth naming, write a playbook for it (`wsdoctor playbooks show ID` shows the format).")


def versions_map(python: str, pytest: str, packages: Iterable[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, Any] = {"python": python, "pytest": pytest}
    found.update(dict(packages))
    return found
