"""Regular expressions that can backtrack for ever: found in the parsed pattern, for `playbooks validate`.

Matching is bounded at run time anyway (analysis/patterns.py); this says *why* a playbook would
be cut off, before anyone runs it. The shape it looks for is the classic one: a repetition
whose body can match the same text in more than one way, because it holds another unbounded
repetition and everything else in the body can match that repetition's characters too
(``(a+)+``, ``(\\w+\\s?)*``, ``(.*a)*``), or alternatives that start alike (``(a|aa)+``).
Precision over recall: a pattern it passes may still be slow, one it flags is risky.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Iterator
from typing import Any

with warnings.catch_warnings():  # sre_parse on 3.10; re._parser since 3.11
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        _parser: Any = importlib.import_module("re._parser")
    except ImportError:  # pragma: no cover - Python 3.10
        _parser = importlib.import_module("sre_parse")
_c: Any = _parser  # the opcodes live beside the parser (sre_constants)

_SAMPLE = [chr(i) for i in range(128)] + ["é", "λ", "\u00a0", "٣", "\u2028"]
CharTest = Callable[[str], bool]
_CATEGORIES: dict[str, CharTest] = {
    "CATEGORY_DIGIT": str.isdigit, "CATEGORY_NOT_DIGIT": lambda c: not c.isdigit(),
    "CATEGORY_SPACE": str.isspace, "CATEGORY_NOT_SPACE": lambda c: not c.isspace(),
    "CATEGORY_WORD": lambda c: c.isalnum() or c == "_", "CATEGORY_NOT_WORD": lambda c: not (c.isalnum() or c == "_"),
}


def backtracking_risk(pattern: str) -> str:
    """Why ``pattern`` can take exponential time, or "" when the shape is not seen."""
    try:
        tree = _parser.parse(pattern)
    except Exception:  # an invalid pattern is reported by the validator's own check
        return ""
    for op, av in _walk(list(tree)):
        if _unbounded_repeat(op, av) and _ambiguous(list(av[2])):
            return ("a repetition inside a repetition that can match the same text in many ways "
                    "(as `(a+)+` or `(\\w+\\s?)*`): on a long text that almost matches it backtracks "
                    "for ever; make the inner part unambiguous, e.g. `(?:\\.\\w+)*` or `\\w+(?:\\s\\w+)*`")
    return ""


def _walk(items: list[Any]) -> Iterator[tuple[Any, Any]]:
    for op, av in items:
        yield op, av
        for sub in _children(op, av):
            yield from _walk(sub)


def _children(op: Any, av: Any) -> list[list[Any]]:
    name = str(op)
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        return [list(av[2])]
    if name == "SUBPATTERN":
        return [list(av[-1])]
    if name == "BRANCH":
        return [list(alternative) for alternative in av[1]]
    if name in ("ASSERT", "ASSERT_NOT"):
        return [list(av[1])]
    if name == "ATOMIC_GROUP":
        return [list(av)]
    return []


def _unbounded_repeat(op: Any, av: Any) -> bool:
    return str(op) in ("MAX_REPEAT", "MIN_REPEAT") and av[1] == _c.MAXREPEAT


def _ambiguous(body: list[Any]) -> bool:
    """The body of a repetition can match one text in several ways."""
    flat = list(_sequence(body))
    starts = _first_chars(body)
    for index, (op, av) in enumerate(flat):
        if index and not _consumes(op, av) and _overlap(_chars([(op, av)]), starts):
            return True  # (a(?:|a))+ or (ab?a?)+: skipping the optional part lets the next round take it
        if str(op) == "BRANCH" and _alternatives_overlap([list(a) for a in av[1]]):
            return True
        if not _unbounded_repeat(op, av):
            continue
        inner = _chars(list(av[2]))
        rest = [item for i, item in enumerate(flat) if i != index and _consumes(*item)]
        if all(_overlap(inner, _chars([item])) for item in rest):
            return True
    return False


def _sequence(items: list[Any]) -> Iterator[tuple[Any, Any]]:
    """The items of a sequence, with plain groups opened (lookarounds and atomic groups kept whole)."""
    for op, av in items:
        if str(op) == "SUBPATTERN":
            yield from _sequence(list(av[-1]))
        else:
            yield op, av


def _consumes(op: Any, av: Any) -> bool:
    """The item must match at least one character."""
    name = str(op)
    if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
        return True
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        return bool(av[0]) and any(_consumes(*item) for item in _sequence(list(av[2])))
    if name == "BRANCH":
        return all(any(_consumes(*item) for item in _sequence(list(a))) for a in av[1])
    return False


def _alternatives_overlap(alternatives: list[list[Any]]) -> bool:
    firsts = [_first_chars(alternative) for alternative in alternatives]
    return any(_overlap(a, b) for i, a in enumerate(firsts) for b in firsts[i + 1:])


def _first_chars(items: list[Any]) -> set[str]:
    for op, av in _sequence(items):
        if _consumes(op, av):
            return _chars([(op, av)])
    return set()


def _chars(items: list[Any]) -> set[str]:
    """The sample characters any item of ``items`` can match."""
    found: set[str] = set()
    for op, av in _sequence(items):
        name = str(op)
        if name == "LITERAL":
            found.add(chr(av))
        elif name == "NOT_LITERAL":
            found.update(c for c in _SAMPLE if c != chr(av))
        elif name == "ANY":
            found.update(c for c in _SAMPLE if c != "\n")
        elif name == "IN":
            found.update(c for c in _SAMPLE if _in_class(av, c))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            found |= _chars(list(av[2]))
        elif name == "BRANCH":
            for alternative in av[1]:
                found |= _chars(list(alternative))
    return found


def _in_class(members: list[Any], char: str) -> bool:
    negate = False
    hit = False
    for op, av in members:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            hit = hit or char == chr(av)
        elif name == "RANGE":
            hit = hit or av[0] <= ord(char) <= av[1]
        elif name == "CATEGORY":
            hit = hit or _CATEGORIES.get(str(av), _any_char)(char)
    return hit != negate


def _any_char(char: str) -> bool:
    return True


def _overlap(a: set[str], b: set[str]) -> bool:
    return bool(a & b)
