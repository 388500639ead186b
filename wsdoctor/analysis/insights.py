"""Test evidence -> insights: match what the runs, bisects and static checks found against playbooks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from wsdoctor.playbook import Condition, Playbook
from wsdoctor.records import Confidence, StateChange, TestEvidence, Verdict
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


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "(unknown)"


def insights_for(evidence: Sequence[TestEvidence], playbooks: Sequence[Playbook],
                 versions: dict[str, str]) -> list[Insight]:
    """One insight per playbook that matched (grouping its tests), plus one per unmatched finding."""
    usable = [p for p in playbooks if all(version_satisfies(versions.get(name, ""), spec)
                                          for name, spec in p.requires)]
    grouped: dict[str, list[tuple[TestEvidence, dict[str, str], Condition]]] = {}
    unmatched: list[TestEvidence] = []
    for item in evidence:
        matches = [(p, found) for p in usable for found in [_match(p, item, versions)] if found is not None]
        for playbook, (groups, condition) in matches:
            grouped.setdefault(playbook.id, []).append((item, groups, condition))
        if not matches and item.verdict is not Verdict.PASS:
            unmatched.append(item)
    by_id = {p.id: p for p in usable}
    insights = [_insight(by_id[pid], hits, versions) for pid, hits in grouped.items()]
    insights.sort(key=lambda i: (-i.confidence.rank, i.playbook or ""))
    return insights + [_unmatched(item) for item in unmatched]


def _match(playbook: Playbook, item: TestEvidence,
           versions: dict[str, str]) -> tuple[dict[str, str], Condition] | None:
    for condition in playbook.match:
        if not all(version_satisfies(versions.get(name, ""), spec) for name, spec in condition.requires):
            continue
        groups = _condition_groups(condition, item)
        if groups is not None:
            return groups, condition
    return None


def _condition_groups(condition: Condition, item: TestEvidence) -> dict[str, str] | None:
    """The named groups the condition captured, or None when it does not hold."""
    groups: dict[str, str] = {}
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
        found = _search(pattern, texts)
        if found is None:
            return None
        groups.update({k: v for k, v in found.groupdict().items() if v is not None})
    if condition.leaked and not any(_leak_matches(condition.leaked, leak) for leak in item.leaked):
        return None
    return groups


_ERROR_PREFIX = re.compile(r"^E {1,}", re.MULTILINE)


def _without_error_prefixes(text: str) -> str:
    """pytest's failure text with its 'E   ' line prefixes removed, as the error itself reads."""
    return _ERROR_PREFIX.sub("", text)


def _search(pattern: str, texts: Iterable[str]) -> re.Match[str] | None:
    compiled = re.compile(pattern, re.MULTILINE)
    return next((m for text in texts if text for m in [compiled.search(text)] if m), None)


def _leak_matches(wanted: tuple[tuple[str, str], ...], leak: StateChange) -> bool:
    fields = {"kind": leak.kind, "name": leak.name, "before": leak.before or "", "after": leak.after or ""}
    return all(fields[key] == pattern if key == "kind" else re.search(pattern, fields[key]) is not None
               for key, pattern in wanted)


def _insight(playbook: Playbook, hits: list[tuple[TestEvidence, dict[str, str], Condition]],
             versions: dict[str, str]) -> Insight:
    first, groups, condition = max(hits, key=lambda hit: len(hit[0].leaked))  # the best-proven one
    values = _Values(_placeholders(first, versions))
    values.update(groups)
    needs_run = not first.from_run and not (condition.leaked or condition.scopes or condition.static)
    return Insight(
        playbook=playbook.id, title=playbook.title,
        phenomenon=_fill(playbook.phenomenon, values), cause=_fill(playbook.cause, values),
        solution=_fill(playbook.solution, values), lesson=_fill(playbook.lesson, values),
        confidence=_confidence(playbook, condition, first), tests=tuple(dict.fromkeys(h[0].nodeid for h in hits)),
        evidence=tuple(h[0] for h in hits), references=playbook.references, needs_run=needs_run)


def _fill(template: str, values: _Values) -> str:
    return template.format_map(values).strip()


def _confidence(playbook: Playbook, condition: Condition, item: TestEvidence) -> Confidence:
    steps = 0
    if condition.leaked or condition.scopes:
        steps += 1  # bisect proved the polluter and named the state
    if not item.from_run or (condition.static and not (condition.failure or condition.verdicts)):
        steps -= 1  # text or source alone, nothing reproduced
    return playbook.confidence.moved(steps)


def _placeholders(item: TestEvidence, versions: dict[str, str]) -> dict[str, str]:
    leak = item.leaked[0] if item.leaked else None
    values = {
        "victim": item.nodeid, "verdict": item.verdict.value, "message": item.message or "(no message)",
        "polluters": ", ".join(item.polluters) or "(not bisected)",
        "scope": item.scope.value if item.scope else "(not bisected)",
        "python": versions.get("python", ""), "pytest": versions.get("pytest", ""),
        "pytest_asyncio": versions.get("pytest-asyncio", ""), "websockets": versions.get("websockets", "")}
    if leak is not None:
        values.update(leaked_kind=leak.kind, leaked_name=leak.name, leaked_before=leak.before or "(absent)",
                      leaked_after=leak.after or "(absent)")
    return {k: v for k, v in values.items() if v}


def _unmatched(item: TestEvidence) -> Insight:
    """Never silence: what failed, where, after what."""
    after = f" after {', '.join(item.polluters)}" if item.polluters else ""
    leaked = "; ".join(f"{c.kind} {c.name}: {c.before or '(absent)'} → {c.after or '(absent)'}"
                       for c in item.leaked[:3])
    return Insight(
        playbook=None, title=f"{item.verdict.value}: {item.nodeid}",
        phenomenon=f"{item.nodeid} is {item.verdict.value}{after}: {item.message or '(no message)'}",
        cause=(f"No playbook explains this failure yet. It leaves behind or finds: {leaked}."
               if leaked else "No playbook explains this failure yet; the evidence below is what is known."),
        solution="Reproduce it with the commands below, read the failure text, and, if it is a family "
                 "worth naming, write a playbook for it (`wsdoctor playbooks show ID` shows the format).",
        lesson="Every unexplained failure is a playbook not yet written.",
        confidence=Confidence.LOW, tests=(item.nodeid,), evidence=(item,), needs_run=not item.from_run)


def versions_map(python: str, pytest: str, packages: Iterable[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, Any] = {"python": python, "pytest": pytest}
    found.update(dict(packages))
    return found
