"""`wsdoctor fix`, the pure part: from a bisect's answer to candidate patches, best first.

A candidate is a list of edits said abstractly (which statement of which test to rewrite, which
state a fixture saves and restores, which statements of a cleaner become a polluter's teardown);
wsdoctor.edits makes them with a concrete-syntax tree, and wsdoctor.execution.proof proves them
in a scratch copy of the project. Ranked by what a reviewer would rather merge:

1. **rewrite** the polluting statement itself: ``os.environ[K] = v`` becomes ``monkeypatch.setenv``,
   an attribute or ``sys.modules`` item assigned in a test becomes ``monkeypatch.setattr`` /
   ``setitem``, a patcher started and never stopped gets its cleanup, a module-level
   ``sys.modules[K] = stub`` becomes the same stub inside a fixture (``patch.dict(sys.modules)``);
2. **cleaner**: the statements of a test that puts the state back, minimised by delta debugging,
   as a teardown fixture of the polluter;
3. **state**: an autouse fixture next to the polluter that saves and restores the named state
   (the container's items, the attribute's binding, the environment, a cache cleared before
   and after, patchers stopped, a file put back), then the same in the nearest conftest.py.

Nothing here reads a file, starts a process or looks at a clock.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from wsdoctor.analysis.insights import Insight
from wsdoctor.analysis.leaks import LOW_SIGNAL_KINDS
from wsdoctor.planner import files_in_order, in_collection_order
from wsdoctor.records import (
    Collection,
    Context,
    FixCandidate,
    FixResult,
    FixSource,
    Outcome,
    Plan,
    PlanResult,
    Scope,
    StateChange,
)

MAX_CLEANERS = 2  # cleaners whose statements are minimised: each costs a few child runs
MAX_STATEMENTS = 12  # statements of a cleaner considered (the first ones)
CONTAINERS = {"dict": "mapping", "defaultdict": "mapping", "OrderedDict": "mapping", "Counter": "mapping",
              "set": "set", "list": "sequence", "deque": "sequence"}
# Kinds of state a fixture can save and restore; the others (a thread, a socket, an event loop
# set on the policy, logging) have no generic undo: what started a thread or a socket is stopped.
RESTORABLE_KINDS = frozenset({"environ", "sys.modules", "module-attr", "class-attr", "patcher", "cwd",
                              "sys.path", "file", "signal"})
STARTED_KINDS = frozenset({"thread", "socket"})  # stopped by the fixture that started them
_WORD = re.compile(r"[^A-Za-z0-9]+")


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """What fix starts from: one bisected cause, and the failing order it was found in."""

    victim: str
    victims: tuple[str, ...]  # every victim the patch must make pass, the bisected one first
    polluters: tuple[str, ...]
    scope: Scope
    leaks: tuple[StateChange, ...]
    cleaners: tuple[str, ...]
    collection: Collection
    failing_order: tuple[str, ...] = ()  # the tests of the failing order, the victim last
    failing_collect: tuple[str, ...] = ()  # what that order collected


# --- edits, said abstractly ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rewrite:
    """Rewrite the statements of ``function`` (and its class's set-up) that write the leaked state."""

    path: str
    function: str  # "test_x" or "TestX.test_x"
    leaks: tuple[StateChange, ...]


@dataclass(frozen=True, slots=True)
class StubIntoFixture:
    """A module-level ``sys.modules[key] = stub``: the same stub in an autouse fixture, in sys.modules
    only while each test of the file runs."""

    path: str
    keys: tuple[str, ...]
    real_module: bool = True  # a mock given as the stub becomes a types.ModuleType; False: the stub as written


@dataclass(frozen=True, slots=True)
class RestoreState:
    """An autouse fixture in ``path`` that saves the leaked state before each test and restores it after."""

    path: str
    leaks: tuple[StateChange, ...]
    polluters: tuple[str, ...]  # whose leaks they are: named in the fixture's docstring


@dataclass(frozen=True, slots=True)
class CleanerTeardown:
    """Statements of a cleaner test as the teardown of a fixture used by the polluters of ``path``."""

    path: str
    polluters: tuple[str, ...]  # functions of ``path``: "test_x" or "TestX.test_x"
    cleaner: str  # the cleaner's node id
    statements: tuple[int, ...] | None = None  # indices into the cleaner's statements; None: all of them


@dataclass(frozen=True, slots=True)
class FixtureTeardown:
    """The fixtures ``function`` uses that return a started object and never stop it (found in ``files``:
    the test's file, then its conftest.py files): a teardown that stops what they return."""

    path: str
    function: str
    files: tuple[str, ...]


Edit = Rewrite | StubIntoFixture | RestoreState | CleanerTeardown | FixtureTeardown


@dataclass(frozen=True, slots=True)
class CandidatePlan:
    source: FixSource
    title: str
    edits: tuple[Edit, ...]


def split_nodeid(nodeid: str) -> tuple[str, str]:
    """``tests/a.py::TestX::test_y[1]`` -> (``tests/a.py``, ``TestX.test_y``)."""
    path, _, rest = nodeid.partition("::")
    return path, rest.split("[", 1)[0].replace("::", ".")


def identifier(*parts: str) -> str:
    """A private Python name made of the words of ``parts``: ``_restore_rooms_locked``."""
    return "_" + "_".join(w.lower() for part in parts for w in _WORD.split(part) if w)


# --- candidates -------------------------------------------------------------------------------


def candidates(diagnosis: Diagnosis, conftests: Mapping[str, Sequence[str]]) -> list[CandidatePlan]:
    """Every candidate for ``diagnosis``, best first. ``conftests``: each polluter file's conftest.py
    files, the nearest first (none: a new one beside it would be made)."""
    leaks = relevant_leaks(diagnosis.leaks)
    if diagnosis.scope is Scope.FILE_IMPORT:
        return _import_candidates(diagnosis, leaks)
    by_file = _polluters_by_file(diagnosis.polluters)
    found = [*_rewrites(by_file, leaks, diagnosis), *_teardowns(by_file, leaks, conftests),
             *_cleaner_candidates(diagnosis, by_file), *_state_candidates(diagnosis, leaks, by_file, conftests)]
    return found


def _teardowns(by_file: Mapping[str, Sequence[str]], leaks: Sequence[StateChange],
               conftests: Mapping[str, Sequence[str]]) -> list[CandidatePlan]:
    started = [leak for leak in leaks if leak.kind in STARTED_KINDS]
    if not started:
        return []
    edits = tuple(FixtureTeardown(path=path, function=function, files=(path, *conftests.get(path, ())))
                  for path, functions in by_file.items() for function in functions)
    return [CandidatePlan(FixSource.REWRITE, f"a teardown for the fixture of {_names(by_file)} that starts "
                          f"{_shown(started)} and never stops it", edits)]


def relevant_leaks(leaks: Sequence[StateChange]) -> list[StateChange]:
    """The leaks a patch is about: not the noisy kinds, and not the attributes of an object that was
    replaced as a whole (putting the object back puts them back)."""
    kept = [leak for leak in leaks if leak.kind not in LOW_SIGNAL_KINDS]
    attributes = ("module-attr", "class-attr")
    replaced = {leak.name for leak in kept if leak.kind in attributes}
    return [leak for leak in kept
            if leak.kind not in attributes or not any(leak.name.startswith(name + ".") for name in replaced)]


def _polluters_by_file(polluters: Sequence[str]) -> dict[str, list[str]]:
    by_file: dict[str, list[str]] = {}
    for polluter in polluters:
        path, function = split_nodeid(polluter)
        by_file.setdefault(path, [])
        if function not in by_file[path]:
            by_file[path].append(function)
    return by_file


def _leaks_of(path: str, leaks: Sequence[StateChange], diagnosis: Diagnosis) -> tuple[StateChange, ...]:
    """The leaks the polluters of ``path`` left, and those no polluter's file is named for (left by a
    fixture, or not told apart): a patch in ``path`` is about these."""
    files = {p.split("::", 1)[0] for p in diagnosis.polluters}
    return tuple(leak for leak in leaks if leak.by.split("::", 1)[0] == path or leak.by.split("::", 1)[0] not in files)


def _rewrites(by_file: Mapping[str, Sequence[str]], leaks: Sequence[StateChange],
              diagnosis: Diagnosis) -> list[CandidatePlan]:
    rewritable = [leak for leak in leaks if leak.kind in ("environ", "module-attr", "class-attr", "sys.modules",
                                                          "patcher")]
    if not rewritable:
        return []
    edits = tuple(Rewrite(path=path, function=function, leaks=_leaks_of(path, rewritable, diagnosis))
                  for path, functions in by_file.items() for function in functions
                  if _leaks_of(path, rewritable, diagnosis))
    names = ", ".join(f for functions in by_file.values() for f in functions)
    return [CandidatePlan(FixSource.REWRITE, f"rewrite what {names} writes of {_shown(rewritable)} with monkeypatch "
                          "(or a patcher's cleanup), which puts it back after the test", edits)]


def _cleaner_candidates(diagnosis: Diagnosis, by_file: Mapping[str, Sequence[str]]) -> list[CandidatePlan]:
    found = []
    for cleaner in diagnosis.cleaners[:MAX_CLEANERS]:
        edits = tuple(CleanerTeardown(path=path, polluters=tuple(functions), cleaner=cleaner)
                      for path, functions in by_file.items())
        found.append(CandidatePlan(FixSource.CLEANER, f"what {cleaner} does to put the state back, as the "
                                   f"teardown of {_names(by_file)}", edits))
    return found


def _state_candidates(diagnosis: Diagnosis, leaks: Sequence[StateChange], by_file: Mapping[str, Sequence[str]],
                      conftests: Mapping[str, Sequence[str]]) -> list[CandidatePlan]:
    restorable = [leak for leak in leaks if is_restorable(leak)]
    if not restorable:
        return []
    found: list[CandidatePlan] = []
    if len(restorable) > 1:  # the most relevant alone first: the smaller patch
        found += _state_plans(diagnosis, [restorable[0]], by_file, conftests, first_only=True)
    return found + _state_plans(diagnosis, restorable, by_file, conftests, first_only=False)


def _state_plans(diagnosis: Diagnosis, leaks: Sequence[StateChange], by_file: Mapping[str, Sequence[str]],
                 conftests: Mapping[str, Sequence[str]], first_only: bool) -> list[CandidatePlan]:
    polluters = diagnosis.polluters
    next_to = tuple(RestoreState(path=path, leaks=_leaks_of(path, leaks, diagnosis),
                                 polluters=tuple(p for p in polluters if p.startswith(path + "::")))
                    for path in by_file if _leaks_of(path, leaks, diagnosis))
    shared: dict[str, list[str]] = {}
    for path in by_file:
        nearest = next(iter(conftests.get(path, ())), posixpath.join(posixpath.dirname(path), "conftest.py"))
        shared.setdefault(nearest, []).append(path)
    in_conftest = tuple(RestoreState(path=conftest, leaks=tuple(leaks), polluters=tuple(polluters))
                        for conftest in shared)
    what = _shown(leaks)
    plans = [CandidatePlan(FixSource.STATE, f"an autouse fixture in {', '.join(by_file)} that saves and restores "
                           f"{what}", next_to)]
    if not first_only:
        plans.append(CandidatePlan(FixSource.STATE, f"an autouse fixture in {', '.join(shared)} that saves and "
                                   f"restores {what} around every test under it", in_conftest))
    return plans


def _import_candidates(diagnosis: Diagnosis, leaks: Sequence[StateChange]) -> list[CandidatePlan]:
    """A module-level stub into a fixture: as a real module first, then the stub as written (a mock is
    not a package on Python 3.11+; the proof, on the suite's interpreter, says whether that matters)."""
    stubs = [leak for leak in leaks if leak.kind == "sys.modules"]
    if not stubs:
        return []
    keys = tuple(dict.fromkeys(leak.name for leak in stubs))
    shown = ", ".join(f'sys.modules["{key}"]' for key in keys)
    found = []
    for path in diagnosis.polluters:
        found.append(CandidatePlan(FixSource.REWRITE, f"the module-level {shown} stub of {path} into an autouse "
                                   "fixture (patch.dict(sys.modules), a mock made a real module): in sys.modules "
                                   "only while each test of the file runs", (StubIntoFixture(path=path, keys=keys),)))
        found.append(CandidatePlan(FixSource.REWRITE, f"the module-level {shown} stub of {path}, as written, into an "
                                   "autouse fixture (patch.dict(sys.modules))",
                                   (StubIntoFixture(path=path, keys=keys, real_module=False),)))
    return found


def is_restorable(leak: StateChange) -> bool:
    if leak.kind not in RESTORABLE_KINDS:
        return False
    if leak.kind == "file":
        return not leak.name.endswith("/") and (leak.before is None or "bytes" in leak.before)
    return True


def no_candidate_reason(diagnosis: Diagnosis) -> str:
    """Why no patch can be made for ``diagnosis``: what fix does not touch, said in its names."""
    leaks = relevant_leaks(diagnosis.leaks)
    if diagnosis.scope is Scope.FILE_IMPORT:
        what = _shown(leaks) if leaks else "state the probes could not name"
        return (f"importing {', '.join(diagnosis.polluters)} changes {what} at module level; fix moves only "
                "sys.modules stubs out of module level: make the change inside a fixture of that file")
    if not leaks:
        return ("the probes named no state the polluters leave changed (it may live in a C extension, a socket "
                "peer or a third-party object), and no test of the order puts it back: nothing to restore")
    kinds = sorted({leak.kind for leak in leaks if not is_restorable(leak)})
    return (f"the polluters leave {_shown(leaks)} changed ({', '.join(kinds)}): no statement of theirs writes it "
            "directly, no test of the order puts it back, and it has no generic undo; stop it in the "
            "fixture or test that starts it")


def _shown(leaks: Sequence[StateChange]) -> str:
    names = [shown_leak(leak) for leak in leaks[:3]]
    return ", ".join(names) + (f" and {len(leaks) - 3} more" if len(leaks) > 3 else "")


def shown_leak(leak: StateChange) -> str:
    if leak.kind == "environ":
        return f'os.environ["{leak.name}"]'
    if leak.kind == "sys.modules":
        return f'sys.modules["{leak.name}"]'
    if leak.kind in ("module-attr", "class-attr"):
        return leak.name
    return f"{leak.kind} {leak.name}"


def _names(by_file: Mapping[str, Sequence[str]]) -> str:
    return ", ".join(f for functions in by_file.values() for f in functions)


# --- the leaked value, as the probes wrote it ----------------------------------------------------


def container_kind(fingerprint: str | None) -> str | None:
    """``mapping``, ``set`` or ``sequence`` for a container's fingerprint ("dict len=1 ..."), else None."""
    if not fingerprint:
        return None
    return CONTAINERS.get(fingerprint.split(" ", 1)[0])


def holds_containers(fingerprint: str | None) -> bool:
    """The container holds containers (" (holding N)"): restoring it needs a deep copy."""
    return bool(fingerprint) and " (holding " in (fingerprint or "")


def mutated_in_place(leak: StateChange) -> bool:
    """A container changed in place (the same kind before and after), not a name bound to another value."""
    before, after = container_kind(leak.before), container_kind(leak.after)
    return before is not None and before == after and (leak.before or "").split(" ", 1)[0] == \
        (leak.after or "").split(" ", 1)[0]


def is_cache(leak: StateChange) -> bool:
    return (leak.after or "").startswith("lru_cache") or (leak.before or "").startswith("lru_cache")


# --- delta debugging over a cleaner's statements ---------------------------------------------------

T = TypeVar("T")
BatchCheck = Callable[[Sequence[tuple[T, ...]]], list[bool]]


def minimal_subset(items: Sequence[T], works: BatchCheck[T]) -> tuple[T, ...]:
    """A 1-minimal subset of ``items`` that still works (Zeller's ddmin): removing any one of its
    items breaks it. ``items`` as a whole is known to work; ``works`` answers for several subsets at
    once, and is never asked the same subset twice."""
    asked: dict[tuple[T, ...], bool] = {}

    def check(subsets: Sequence[tuple[T, ...]]) -> list[bool]:
        new = [s for s in dict.fromkeys(subsets) if s not in asked]
        if new:
            asked.update(zip(new, works(new), strict=True))
        return [asked[s] for s in subsets]

    current = tuple(items)
    parts = 2
    while len(current) >= 2:
        chunks = _chunks(current, parts)
        found = _first_working(chunks, check)
        if found is not None:
            current, parts = found, 2
            continue
        complements = [tuple(item for item in current if item not in chunk) for chunk in chunks]
        found = _first_working(complements if parts > 2 else [], check)
        if found is not None:
            current, parts = found, max(parts - 1, 2)
            continue
        if parts >= len(current):
            break
        parts = min(len(current), parts * 2)
    return current


def _chunks(items: tuple[T, ...], parts: int) -> list[tuple[T, ...]]:
    size, extra = divmod(len(items), parts)
    chunks, start = [], 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        chunks.append(items[start:end])
        start = end
    return [chunk for chunk in chunks if chunk]


def _first_working(subsets: Sequence[tuple[T, ...]], check: BatchCheck[T]) -> tuple[T, ...] | None:
    if not subsets:
        return None
    return next((subset for subset, ok in zip(subsets, check(subsets), strict=True) if ok), None)


# --- what a proof runs, and what it must show ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProofPlans:
    polluted: Plan  # the polluters (or their files' import), then the victims
    alone: Plan  # the victim alone
    own: Plan  # the polluters' own files, every test
    order: Plan | None  # the failing order as a whole (None: not known)


def proof_plans(diagnosis: Diagnosis) -> ProofPlans:
    collection = diagnosis.collection
    victims = _in_suite_order(collection, diagnosis.victims)
    if diagnosis.scope is Scope.FILE_IMPORT:
        polluted_ids = victims
        polluted_collect = in_collection_order(collection, [*diagnosis.polluters,
                                                            *files_in_order(collection, victims)])
        own_files = list(diagnosis.polluters)
    else:
        polluted_ids = (*diagnosis.polluters, *(v for v in victims if v not in diagnosis.polluters))
        polluted_collect = files_in_order(collection, polluted_ids)
        own_files = list(files_in_order(collection, diagnosis.polluters))
    own_ids = tuple(t.nodeid for t in collection.tests if t.path in own_files)
    order = None
    if diagnosis.failing_order:
        order = Plan(label="fix: the failing order", context=Context.SUITE,
                     collect_args=diagnosis.failing_collect or files_in_order(collection, diagnosis.failing_order),
                     test_ids=diagnosis.failing_order)
    return ProofPlans(
        polluted=Plan(label="fix: the polluters, then the victim", context=Context.SUITE,
                      collect_args=polluted_collect, test_ids=polluted_ids),
        alone=Plan(label="fix: the victim alone", context=Context.ALONE,
                   collect_args=(collection.path_of(diagnosis.victim),), test_ids=(diagnosis.victim,)),
        own=Plan(label="fix: the polluters' own tests", context=Context.FILE,
                 collect_args=tuple(own_files), test_ids=own_ids),
        order=order)


def _in_suite_order(collection: Collection, ids: Sequence[str]) -> tuple[str, ...]:
    position = {t.nodeid: i for i, t in enumerate(collection.tests)}
    return tuple(sorted(dict.fromkeys(ids), key=lambda nodeid: position.get(nodeid, len(position))))


def went_wrong(result: PlanResult, nodeids: Sequence[str]) -> list[str]:
    """Which of ``nodeids`` did not pass (or skip) in ``result``: a missing result counts."""
    wrong = []
    for nodeid in nodeids:
        outcome = result.result_of(nodeid)
        if outcome is None or not outcome.outcome.is_good:
            wrong.append(nodeid)
    return wrong


def wrong_every_time(runs: Sequence[PlanResult], wrong_in: Callable[[PlanResult], list[str]]) -> list[str]:
    """What went wrong in every one of ``runs`` (the same plan): a failure that did not come back is the
    machine's (a busy CPU, a port taken for a moment), not the patch's."""
    first, *others = [wrong_in(run) for run in runs]
    return [nodeid for nodeid in first if all(nodeid in other for other in others)]


def new_failures(before: PlanResult | None, after: PlanResult) -> list[str]:
    """Tests that went wrong in ``after`` and did not in ``before`` (the same order, unpatched)."""
    earlier = {r.nodeid: r.outcome for r in before.results} if before is not None else {}
    return [r.nodeid for r in after.results
            if r.outcome.went_wrong or r.outcome is Outcome.NOT_RUN
            if not (earlier.get(r.nodeid) or Outcome.PASSED).went_wrong]


def describe(result: PlanResult, nodeid: str) -> str:
    outcome = result.result_of(nodeid)
    if outcome is None:
        return f"{nodeid} did not run"
    message = f": {outcome.message}" if outcome.message else ""
    return f"{nodeid} {outcome.outcome.value}{message}"


# --- the proven patch in a report -------------------------------------------------------------------


def with_proven_patches(insights: Sequence[Insight], fixes: Sequence[FixResult]) -> list[Insight]:
    """Each insight whose tests a proven patch fixes, with that patch first in its Solution, marked proven."""
    patched = []
    for insight in insights:
        fix = next((f for f in fixes if f.proven is not None and set(f.victims) & set(insight.tests)), None)
        if fix is not None and fix.proven is not None:
            insight = dataclasses.replace(insight, solution=f"{proven_solution(fix.proven)}\n\n{insight.solution}")
        patched.append(insight)
    return patched


def proven_solution(candidate: FixCandidate) -> str:
    """The proven patch as a report's Solution shows it (Markdown)."""
    steps = "; ".join(f"{step.name}: {step.detail}" for step in candidate.steps)
    return (f"**Proven patch** (`wsdoctor fix`; proven in a copy of the project: {steps}): "
            f"{candidate.title}.\n\n```diff\n{candidate.diff.rstrip()}\n```")
