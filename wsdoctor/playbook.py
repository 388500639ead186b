"""Playbooks: load and validate YAML (safe loading only), with file, line and key for every problem."""

from __future__ import annotations

import importlib.resources
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from wsdoctor.analysis.templates import GENERIC_NAMES
from wsdoctor.pattern_risk import backtracking_risk
from wsdoctor.records import Confidence, Scope, Verdict
from wsdoctor.versions import specifier

# libyaml's safe loader when PyYAML was built with it (ten times faster; `wsdoctor ci` reads every
# playbook on each run), else the pure-Python one: the same documents, the same line marks.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

TEXT_KEYS = ("phenomenon", "cause", "solution", "lesson")
REQUIRED = ("id", "title", "confidence", "match", *TEXT_KEYS)
OPTIONAL = ("catalogue", "requires", "references")
MATCH_KEYS = ("verdict", "failure", "warning", "leaked", "scope", "static", "requires", "audit")
LEAK_KEYS = ("kind", "name", "before", "after")
CONFIDENCES = tuple(level.value for level in reversed(Confidence))
GUARDED = ("python", "pytest", "pytest-asyncio", "websockets", "starlette", "httpx", "fakeredis")
PLACEHOLDERS = frozenset({
    "victim", "verdict", "message", "polluters", "scope", "leaked_kind", "leaked_name",
    "leaked_before", "leaked_after", "python", "pytest", "pytest_asyncio", "websockets",
    "other_tests", "tests_count", "static_code", "static_at", "created_by", "reported_under", "warned_in",
    *GENERIC_NAMES})
CLOSED_SETS = {"verdict": tuple(v.value for v in Verdict), "scope": tuple(s.value for s in Scope)}
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True, slots=True)
class Condition:
    """One alternative of a playbook's match: every field given must hold."""

    verdicts: tuple[Verdict, ...] = ()
    failure: str | None = None
    warning: str | None = None
    leaked: tuple[tuple[str, str], ...] = ()  # (kind|name|before|after, pattern)
    scopes: tuple[Scope, ...] = ()
    static: tuple[str, ...] = ()
    requires: tuple[tuple[str, str], ...] = ()  # version guards of this alternative alone
    audit: bool = False  # matches what run --audit found a test left changed (and nothing else)


@dataclass(frozen=True, slots=True)
class Playbook:
    id: str
    title: str
    confidence: Confidence
    match: tuple[Condition, ...]
    phenomenon: str
    cause: str
    solution: str
    lesson: str
    catalogue: int | None = None
    requires: tuple[tuple[str, str], ...] = ()  # (package, specifier)
    references: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    line: int
    key: str
    message: str
    warning: bool = False  # the playbook still loads (a risky regex: matching is bounded anyway)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.key}: {'warning: ' if self.warning else ''}{self.message}"


def builtin_dir() -> Path:
    return Path(str(importlib.resources.files("wsdoctor.playbooks")))


def load_all(extra_dirs: Iterable[Path] = ()) -> tuple[list[Playbook], list[Problem]]:
    """Ours, then the user's: a user playbook with the same id replaces ours."""
    by_id: dict[str, Playbook] = {}
    problems: list[Problem] = []
    shipped = builtin_dir()
    for directory in (shipped, *extra_dirs):
        for path in sorted(directory.glob("*.yaml")):
            # Ours are validated by our tests (regexes compiled, patterns checked for backtracking):
            # at every run that was a fifth of the gate's own CPU time, on a suite with no finding.
            playbook, found = load_file(path, trusted=directory == shipped)
            problems += found
            if playbook is not None:
                by_id[playbook.id] = playbook
    return sorted(by_id.values(), key=lambda p: (p.catalogue or 999, p.id)), problems


def load_file(path: Path, *, trusted: bool = False) -> tuple[Playbook | None, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=SAFE_LOADER)
        data = yaml.load(text, Loader=SAFE_LOADER)  # a safe loader
    except (OSError, UnicodeDecodeError) as error:
        return None, [Problem(str(path), 1, "-", f"cannot read: {error}")]
    except yaml.YAMLError as error:
        line = getattr(getattr(error, "problem_mark", None), "line", 0) + 1
        return None, [Problem(str(path), line, "-", f"not valid YAML: {getattr(error, 'problem', error)}")]
    problems = [] if trusted else validate(data, _Lines(node), str(path))
    errors = [problem for problem in problems if not problem.warning]
    return (None if errors else _build(data, str(path))), problems


class _Lines:
    """Line numbers of keys, from the composed YAML tree."""

    def __init__(self, node: Any) -> None:
        self.node = node

    def of(self, *path: str | int) -> int:
        node = self.node
        line = (node.start_mark.line + 1) if node is not None else 1
        for step in path:
            node = self._child(node, step)
            if node is None:
                break
            line = node.start_mark.line + 1
        return line

    @staticmethod
    def _child(node: Any, step: str | int) -> Any:
        if isinstance(node, yaml.MappingNode):
            return next((value for key, value in node.value if key.value == step), None)
        if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            return node.value[step]
        return None


def validate(data: Any, lines: _Lines, path: str) -> list[Problem]:
    if not isinstance(data, dict):
        return [Problem(path, 1, "-", "a playbook is a mapping of keys (id, title, match, ...)")]
    problems = [Problem(path, 1, key, "missing") for key in REQUIRED if key not in data]
    problems += [Problem(path, lines.of(key), key, f"unknown key; known: {', '.join(REQUIRED + OPTIONAL)}")
                 for key in data if key not in REQUIRED + OPTIONAL]
    problems += _check_fields(data, lines, path)
    groups = _named_groups(data.get("match"))
    if groups is not None:  # with a broken regex its group names are unknown: one problem is enough
        for key in TEXT_KEYS:
            problems += _check_template(data.get(key), key, groups, lines, path)
    return problems


def _check_fields(data: dict[str, Any], lines: _Lines, path: str) -> list[Problem]:
    problems = []

    def bad(key: str, message: str, *where: str | int) -> None:
        problems.append(Problem(path, lines.of(key, *where), ".".join(map(str, (key, *where))), message))

    if "id" in data and not (isinstance(data["id"], str) and _ID.match(data["id"])):
        bad("id", "must be kebab-case, e.g. singleton-container-leak")
    if "confidence" in data and data["confidence"] not in CONFIDENCES:
        bad("confidence", f"must be one of {', '.join(CONFIDENCES)}")
    if "catalogue" in data and not isinstance(data["catalogue"], int):
        bad("catalogue", "must be a whole number: the family's number, by which playbooks are listed")
    for key in ("title", *TEXT_KEYS):
        if key in data and not (isinstance(data[key], str) and data[key].strip()):
            bad(key, "must be non-empty text")
    if "references" in data and not (isinstance(data["references"], list)
                                     and all(isinstance(r, str) for r in data["references"])):
        bad("references", "must be a list of links")
    if "requires" in data:
        package, problem = _requires_problem(data["requires"])
        if problem:
            bad("requires", problem, *([package] if package else []))
    if "match" in data:
        problems += _check_match(data["match"], lines, path)
    return problems


def _check_match(match: Any, lines: _Lines, path: str) -> list[Problem]:
    if not isinstance(match, list) or not match:
        return [Problem(path, lines.of("match"), "match", "must be a non-empty list of alternatives")]
    problems = []
    for index, alternative in enumerate(match):
        where = ("match", index)
        if not isinstance(alternative, dict) or not alternative:
            problems.append(Problem(path, lines.of(*where), f"match.{index}", "must be a mapping of conditions"))
            continue
        for key, value in alternative.items():
            problem = _check_condition(key, value)
            if problem:
                problems.append(Problem(path, lines.of(*where, key), f"match.{index}.{key}", problem))
            else:
                problems += [Problem(path, lines.of(*where, key), f"match.{index}.{key}", risk, warning=True)
                             for risk in _pattern_risks(key, value)]
    return problems


def _pattern_risks(key: str, value: Any) -> list[str]:
    patterns = [value] if key in ("failure", "warning") else (
        [v for k, v in value.items() if k != "kind"] if key == "leaked" else [])
    return [risk for pattern in patterns for risk in [backtracking_risk(str(pattern))] if risk]


def _check_condition(key: str, value: Any) -> str:
    if key not in MATCH_KEYS:
        return f"unknown condition; known: {', '.join(MATCH_KEYS)}"
    if key in ("failure", "warning"):
        return _regex_problem(value)
    if key == "requires":
        package, problem = _requires_problem(value)
        return f"{package}: {problem}" if package else problem
    if key == "audit":
        return "" if isinstance(value, bool) else "must be true or false"
    if key == "leaked":
        if not isinstance(value, dict) or set(value) - set(LEAK_KEYS) or "kind" not in value:
            return f"must be a mapping with kind and optionally {', '.join(LEAK_KEYS[1:])}"
        return next((p for k in LEAK_KEYS[1:] if k in value for p in [_regex_problem(value[k])] if p), "")
    if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        return "must be a non-empty list of names"
    known = CLOSED_SETS.get(key)
    unknown = [v for v in value if known is not None and v not in known]
    return f"unknown {key} {unknown[0]!r}; known: {', '.join(known or ())}" if unknown else ""


def _requires_problem(guards: Any) -> tuple[str, str]:
    """(package, problem), or ("", "") when the guards are well formed."""
    if not isinstance(guards, dict) or not guards:
        return "", "must map a package to a version specifier, e.g. {python: '>=3.12'}"
    for package, spec in guards.items():
        if package not in GUARDED:
            return str(package), f"no version guard for {package!r}; known: {', '.join(GUARDED)}"
        if specifier(str(spec)) is None:
            return str(package), f"{spec!r} is not a version specifier like '>=3.12' or '>=1.0,<2'"
    return "", ""


def _regex_problem(pattern: Any) -> str:
    import regex  # only a user's playbook is checked (ours are, by our tests): a clean gate never needs it

    if not isinstance(pattern, str):
        return "must be a regular expression (text)"
    try:
        regex.compile(pattern, regex.VERSION0)  # the engine that matches them (analysis/patterns.py)
    except regex.error as error:
        return f"not a valid regular expression: {error}"
    return ""


def _named_groups(match: Any) -> set[str] | None:
    import regex

    groups: set[str] = set()
    for alternative in match if isinstance(match, list) else ():
        for key in ("failure", "warning"):
            pattern = alternative.get(key) if isinstance(alternative, dict) else None
            if isinstance(pattern, str):
                if _regex_problem(pattern):
                    return None
                groups |= set(regex.compile(pattern, regex.VERSION0).groupindex)
    return groups


def _check_template(text: Any, key: str, groups: set[str], lines: _Lines, path: str) -> list[Problem]:
    if not isinstance(text, str):
        return []
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    except ValueError as error:
        return [Problem(path, lines.of(key), key, f"bad template ({error}); write literal braces as {{{{ }}}}")]
    unknown = sorted(fields - PLACEHOLDERS - groups)
    return [Problem(path, lines.of(key), key, f"unknown placeholder {{{name}}}; known: "
                    f"{', '.join(sorted(PLACEHOLDERS | groups))}") for name in unknown]


def _build(data: dict[str, Any], source: str) -> Playbook:
    return Playbook(
        id=data["id"], title=data["title"].strip(), confidence=Confidence(data["confidence"]),
        match=tuple(_condition(alternative) for alternative in data["match"]),
        phenomenon=data["phenomenon"], cause=data["cause"], solution=data["solution"],
        lesson=data["lesson"], catalogue=data.get("catalogue"),
        requires=tuple((str(k), str(v)) for k, v in (data.get("requires") or {}).items()),
        references=tuple(data.get("references") or ()), source=source)


def _condition(raw: dict[str, Any]) -> Condition:
    return Condition(verdicts=tuple(Verdict(v) for v in raw.get("verdict", ())), failure=raw.get("failure"),
                     warning=raw.get("warning"),
                     leaked=tuple((k, str(v)) for k, v in (raw.get("leaked") or {}).items()),
                     scopes=tuple(Scope(s) for s in raw.get("scope", ())), static=tuple(raw.get("static", ())),
                     requires=tuple((str(k), str(v)) for k, v in (raw.get("requires") or {}).items()),
                     audit=bool(raw.get("audit", False)))


def find(playbooks: Sequence[Playbook], playbook_id: str) -> Playbook | None:
    return next((p for p in playbooks if p.id == playbook_id), None)
