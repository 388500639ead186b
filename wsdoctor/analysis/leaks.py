"""Which state changes are still in place when the victim starts, and which matter to it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from wsdoctor.records import PlanResult, StateChange

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUOTED = re.compile(r"'([^'\n]{3,200})'|\"([^\"\n]{3,200})\"")
_NAME_PARTS = re.compile(r"[.:\[\]'\" ]+")
# Kinds of state that the probes see change all the time without anyone being hurt.
LOW_SIGNAL_KINDS = frozenset({"sys.path", "logging", "logging-disabled"})
NAMESPACE_KINDS = frozenset({"module-attr", "class-attr"})


@dataclass(frozen=True, slots=True)
class Leak:
    """A change still present when the victim starts."""

    change: StateChange  # before: the value before anyone changed it; after: the value the victim sees
    changed_by: tuple[str, ...]  # every test or collector that changed it on the way, in order


@dataclass(frozen=True, slots=True)
class Replay:
    leaks: tuple[Leak, ...]
    reverts: tuple[tuple[str, str], ...]  # (key, test): a test put back the value a key had


def replay_until(run: PlanResult, victim: str) -> Replay:
    """Apply the run's import changes and each test's changes in order, up to the victim."""
    pristine: dict[str, StateChange] = {}
    current: dict[str, str | None] = {}
    authors: dict[str, list[str]] = {}
    reverts: list[tuple[str, str]] = []
    for change in _changes_before(run, victim):
        key = change.key
        pristine.setdefault(key, change)
        current[key] = change.after
        authors.setdefault(key, []).append(change.by)
        if change.after == pristine[key].before:
            reverts.append((key, change.by))
            del pristine[key], current[key], authors[key]
    leaks = [
        Leak(change=StateChange(kind=first.kind, name=first.name, before=first.before,
                                after=current[key], by=authors[key][-1]),
             changed_by=tuple(authors[key]))
        for key, first in pristine.items()]
    alike = names_alike({leak.change.key: (leak.change, ((leak.change.before, leak.change.after, leak.changed_by),))
                         for leak in leaks})
    return Replay(leaks=tuple(leak for leak in leaks if leak.change.key not in alike), reverts=tuple(reverts))


def one_name_per_value(changes: Sequence[StateChange]) -> list[StateChange]:
    """``changes`` but those of a name whose whole history is another's (see names_alike)."""
    first: dict[str, StateChange] = {}
    histories: dict[str, list[tuple[str | None, str | None, str]]] = {}
    for change in changes:
        first.setdefault(change.key, change)
        histories.setdefault(change.key, []).append((change.before, change.after, change.by))
    alike = names_alike({key: (change, tuple(histories[key])) for key, change in first.items()})
    return [change for change in changes if change.key not in alike]


def names_alike(histories: Mapping[str, tuple[StateChange, tuple[tuple[object, ...], ...]]]) -> set[str]:
    """The names to leave out: a value bound under two names of the project (``from app.ws import
    manager`` in another module) is described under both, so each change to it is seen twice, by
    the same tests, with the same texts, under names ending alike; the first name stands for both.
    A name whose history differs keeps it: after ``convertors.CONVERTOR_TYPES`` is rebound to a
    copy, ``starlette.routing.CONVERTOR_TYPES`` still holds what a test put into the old dict."""
    seen: set[tuple[object, ...]] = set()
    alike = set()
    for key, (change, history) in histories.items():
        signature = (change.kind, change.name.rsplit(".", 1)[-1], history)
        changed_in_place = all(entry[0] is not None and entry[1] is not None for entry in history)
        if change.kind in NAMESPACE_KINDS and changed_in_place and signature in seen:
            alike.add(key)
        seen.add(signature)
    return alike


def _changes_before(run: PlanResult, victim: str) -> Iterable[StateChange]:
    yield from run.import_changes
    for result in run.results:
        if result.nodeid == victim:
            return
        yield from result.state_changes


def tokens_of(texts: Iterable[str]) -> set[str]:
    """Identifiers in the victim's failure and source, and its quoted literals (as "=value")."""
    found: set[str] = set()
    for text in texts:
        found.update(word.lower() for word in _WORD.findall(text))
        found.update(("=" + (a or b)).lower() for a, b in _QUOTED.findall(text))
    return found


def relevance(change: StateChange, tokens: set[str]) -> int:
    """How strongly the victim's error or source points at this piece of state."""
    parts = [p.lower() for p in _NAME_PARTS.split(change.name) if p]
    if not parts:
        return 0
    words = {w.lower() for p in parts for w in _WORD.findall(p)}
    score = 3 * (parts[-1] in tokens) + sum(1 for w in words if w in tokens)
    if change.kind == "sys.modules":
        score += 2 * (parts[0] in tokens)
    if change.after is not None and "=" + change.after.strip("'\"").lower() in tokens:
        score += 3  # the victim's error shows the leaked value itself
    if change.kind in LOW_SIGNAL_KINDS:
        score -= 5
    return score


def rank(leaks: Sequence[Leak], tokens: set[str]) -> list[Leak]:
    """Most relevant first; among equals, the most recently changed first."""
    indexed = list(enumerate(leaks))
    indexed.sort(key=lambda item: (-relevance(item[1].change, tokens), -item[0]))
    return [leak for _, leak in indexed]


def suspects(ranked: Sequence[Leak], tokens: set[str], limit: int) -> list[str]:
    """Authors of relevant leaks, most relevant and most recent first."""
    found: dict[str, None] = {}
    for leak in ranked:
        if relevance(leak.change, tokens) <= 0:
            break
        for author in reversed(leak.changed_by):
            found.setdefault(author, None)
    return list(found)[:limit]
