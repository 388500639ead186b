"""Typed records: everything after the subprocess boundary works on these."""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

T = TypeVar("T")


class Outcome(str, enum.Enum):
    """What happened to one test in one child run."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    XFAILED = "xfailed"
    XPASSED = "xpassed"
    HANG = "hang"
    CRASH = "crash"
    NOT_RUN = "not-run"

    @property
    def is_bad(self) -> bool:
        return self in _BAD_OUTCOMES

    @property
    def is_good(self) -> bool:
        return self in _GOOD_OUTCOMES


# Sets, not tuples built at every call: the verdicts ask these for every test of every run.
_BAD_OUTCOMES = frozenset({Outcome.FAILED, Outcome.ERROR})
_GOOD_OUTCOMES = frozenset({Outcome.PASSED, Outcome.SKIPPED, Outcome.XFAILED, Outcome.XPASSED})


class Verdict(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    ORDER_DEPENDENT = "order-dependent"
    BRITTLE = "brittle"
    FLAKY = "flaky"
    HANG = "hang"
    CRASH = "crash"
    COLLECTION_ERROR = "collection-error"


class Context(str, enum.Enum):
    """How much company a test had in a run: that decides what its outcome proves."""

    SUITE = "suite"  # with tests of other files
    FILE = "file"  # with the tests of its own file only
    ALONE = "alone"  # by itself


class ChildStatus(str, enum.Enum):
    COMPLETED = "completed"  # pytest ran to its end, whatever its exit code
    CRASHED = "crashed"  # the process died under a test or during collection
    HUNG = "hung"  # a test overran its deadline; faulthandler ended the process
    KILLED = "killed"  # wsdoctor's watchdog or an interrupt ended it


@dataclass(frozen=True, slots=True)
class StateChange:
    """A piece of process-global state that a test or an import changed and left changed."""

    kind: str  # sys.modules, module-attr, class-attr, environ, cwd, sys.path, thread, socket, ...
    name: str
    before: str | None  # None: did not exist
    after: str | None  # None: gone
    by: str = ""  # the test or collector that changed it

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True, slots=True)
class CollectedTest:
    nodeid: str
    path: str  # the file, relative to the invocation directory
    lineno: int | None = None


@dataclass(frozen=True, slots=True)
class CollectionError:
    path: str  # the collector's node id: a file, a package or a conftest
    message: str
    collects_alone: bool  # True: only fails when collected after other files
    tests_in_file: int  # tests defined in the file (found statically when it won't import)


@dataclass(frozen=True, slots=True)
class Collection:
    rootdir: str
    inifile: str | None
    tests: tuple[CollectedTest, ...]
    errors: tuple[CollectionError, ...] = ()
    pytest_exit_code: int = 0

    def path_of(self, nodeid: str) -> str:
        for test in self.tests:
            if test.nodeid == nodeid:
                return test.path
        return nodeid.split("::", 1)[0]


@dataclass(frozen=True, slots=True)
class Plan:
    """Tests to run in this order in a fresh child process (continued in a new one after a crash)."""

    label: str
    context: Context
    collect_args: tuple[str, ...]
    test_ids: tuple[str, ...]
    attempt: int = 0  # 0, 1, ...: plans of the same tests in the same order differ only here
    state_probes: bool = False  # the child's state probes record what each test and import changed

    @property
    def key(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Plans with the same key are identical runs: their outcomes must agree."""
        return (self.collect_args, self.test_ids)


@dataclass(frozen=True, slots=True)
class TestResult:
    __test__: ClassVar[bool] = False  # not a test class, whatever pytest thinks of the name

    nodeid: str
    outcome: Outcome
    duration: float = 0.0
    message: str = ""  # one line: the crash message or the reason
    longrepr: str = ""
    state_changes: tuple[StateChange, ...] = ()
    warnings: tuple[str, ...] = ()  # "Category: message", as the child recorded them


@dataclass(frozen=True, slots=True)
class ChildProcess:
    """One child pytest process of a plan, and how it ended."""

    status: ChildStatus
    exit_code: int | None
    seconds: float
    artifacts: str  # directory with ids.txt, events.jsonl, report.json, stdout/stderr
    started: tuple[str, ...]  # node ids in the order the child started them
    hang_dump: str = ""
    stderr_tail: str = ""


@dataclass(frozen=True, slots=True)
class PlanResult:
    """A plan, executed: every test's result, and the child processes it took."""

    plan: Plan
    results: tuple[TestResult, ...]
    children: tuple[ChildProcess, ...]
    collect_errors: tuple[str, ...] = ()  # collectors that failed in these children
    import_changes: tuple[StateChange, ...] = ()  # what collecting each file changed

    def result_of(self, nodeid: str) -> TestResult | None:
        for result in self.results:
            if result.nodeid == nodeid:
                return result
        return None


@dataclass(frozen=True, slots=True)
class Observation:
    """One test's outcome in one plan, as evidence for its verdict.

    Two observations with the same history ran after the same files' imports and the
    same tests in a fresh process: identical runs, so their outcomes must agree, or the
    test is flaky.
    """

    plan: str  # the plan's label
    context: Context
    outcome: Outcome
    message: str = ""
    history: str = ""


@dataclass(frozen=True, slots=True)
class TestVerdict:
    __test__: ClassVar[bool] = False

    nodeid: str
    verdict: Verdict
    reason: str
    observations: tuple[Observation, ...] = ()
    reproduce: tuple[str, ...] = ()  # plain-pytest commands
    detail: str = ""  # e.g. where a hung test was blocked


@dataclass(frozen=True, slots=True)
class StaticFinding:
    """A habit in a test file's source that hides failures or pollutes the process."""

    id: str
    path: str
    line: int
    code: str  # the offending source line, stripped


@dataclass(frozen=True, slots=True)
class TestEvidence:
    """What is known about one test (or one file that failed to collect), for its report."""

    __test__: ClassVar[bool] = False

    nodeid: str
    verdict: str
    message: str = ""
    text: str = ""  # the whole failure text: traceback, hang dump, collection error
    warnings: tuple[str, ...] = ()
    leaked: tuple[StateChange, ...] = ()
    polluters: tuple[str, ...] = ()
    scope: str | None = None
    static: tuple[StaticFinding, ...] = ()
    outcomes: tuple[str, ...] = ()  # "suite failed ×2 · alone passed ×2", "bisect: ..."
    commands: tuple[str, ...] = ()  # plain-pytest commands that show it
    from_run: bool = True  # False: from a CI artifact only, nothing was re-run


@dataclass(frozen=True, slots=True)
class Versions:
    python: str
    pytest: str
    platform: str
    executable: str
    plugins: tuple[str, ...] = ()
    packages: tuple[tuple[str, str], ...] = ()  # (distribution, version) of the watched packages


@dataclass(frozen=True, slots=True)
class RunOptions:
    paths: tuple[str, ...]
    pytest_args: tuple[str, ...]
    python: str
    reverse: bool = False
    shuffle: int | None = None
    repeat: int = 1
    isolate: str | None = None
    workers: int = 1
    timeout: float = 60.0
    audit: bool = False  # record the state every test leaves changed
    bisect: bool = False  # bisect every order-dependent test found


@dataclass(frozen=True, slots=True)
class BisectResult:
    victim: str
    verdict: str  # order-dependent | brittle | fails-alone | flaky | not-reproduced
    summary: str
    polluters: tuple[str, ...] = ()
    scope: str | None = None  # test | tests | file-import
    state_setters: tuple[str, ...] = ()
    leaked_state: tuple[StateChange, ...] = ()
    cleaners: tuple[str, ...] = ()
    confidence: str = ""
    runs: int = 0  # child runs of tests (collection not counted)
    seconds: float = 0.0
    reproduce: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()  # what was tried, in order


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: str
    wsdoctor_version: str
    cwd: str
    options: RunOptions
    status: str  # running | complete | interrupted
    versions: Versions | None = None
    collection: Collection | None = None
    plan_results: tuple[PlanResult, ...] = ()
    verdicts: tuple[TestVerdict, ...] = ()
    seconds: float = 0.0
    children_started: int = 0
    bisects: tuple[BisectResult, ...] = ()

    def findings(self) -> tuple[TestVerdict, ...]:
        return tuple(v for v in self.verdicts if v.verdict is not Verdict.PASS)

    def audit(self) -> tuple[StateChange, ...]:
        """State left changed by each test (and import) of the probed suite runs."""
        changes: list[StateChange] = []
        for run in self.plan_results:
            if run.plan.state_probes and run.plan.context is Context.SUITE:
                changes += run.import_changes
                changes += [c for result in run.results for c in result.state_changes]
                break
        return tuple(changes)


# --- JSON codec ---------------------------------------------------------------


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _dataclass_fields(value: Any) -> dict[str, Any]:
    """json's ``default``: a record as a dict; the C encoder takes care of what is inside."""
    names = _FIELD_NAMES.get(type(value))
    if names is None:
        if not dataclasses.is_dataclass(value) or isinstance(value, type):
            raise TypeError(f"{type(value).__name__} is not a record")
        names = _FIELD_NAMES[type(value)] = tuple(f.name for f in dataclasses.fields(value))
    return {name: getattr(value, name) for name in names}


def from_jsonable(kind: Any, data: Any) -> Any:
    """Rebuild a value of type ``kind`` (a dataclass, enum, tuple, list or union) from JSON."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        return _from_union(typing.get_args(kind), data)
    if origin in (tuple, list):
        item_kind = typing.get_args(kind)[0]
        return origin(from_jsonable(item_kind, item) for item in data)
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        hints = typing.get_type_hints(kind)
        known = {f.name for f in dataclasses.fields(kind)}
        return kind(**{k: from_jsonable(hints[k], v) for k, v in data.items() if k in known})
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(data)
    return data


def _from_union(options: tuple[Any, ...], data: Any) -> Any:
    if data is None:
        return None
    for option in options:
        if option is not type(None):
            return from_jsonable(option, data)
    return data


def dump_json(value: Any) -> str:
    # No indent: with it, json falls back to its pure-Python encoder (records reach megabytes).
    # The enums are str enums: the encoder writes their values.
    return json.dumps(value, default=_dataclass_fields, check_circular=False) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write so that a reader never sees half a file, even if we are interrupted."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def load_record(path: Path) -> RunRecord:
    record: RunRecord = from_jsonable(RunRecord, json.loads(path.read_text(encoding="utf-8")))
    return record


def load_bisect(path: Path) -> BisectResult:
    result: BisectResult = from_jsonable(BisectResult, json.loads(path.read_text(encoding="utf-8")))
    return result
