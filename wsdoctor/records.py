"""Typed records: everything after the subprocess boundary works on these.

Closed sets are enums, so mypy catches a mix-up: the kind and status of a record, the
outcome of a test in one child, the verdict (one vocabulary for `run` and `bisect`,
narrowed by Literal types to what each gives), a polluter's scope, and a confidence level.
New record kinds and new reasons why a test did not run belong here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar, Literal

RECORD_SCHEMA = 2  # of run.json and bisect.json: bumped on every incompatible change


class RecordKind(str, enum.Enum):
    RUN = "run"  # `wsdoctor run`: .wsdoctor/runs/<id>/run.json
    BISECT = "bisect"  # `wsdoctor bisect`: .wsdoctor/runs/<id>/bisect.json


class RecordStatus(str, enum.Enum):
    RUNNING = "running"
    COMPLETE = "complete"
    INTERRUPTED = "interrupted"  # Ctrl-C, SIGTERM or SIGHUP: what was done is kept
    FAILED = "failed"  # wsdoctor's internal error: what the children reported is kept
    ABANDONED = "abandoned"  # never written: a record still running whose wsdoctor is gone (killed)


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

    @property
    def went_wrong(self) -> bool:
        """Failed, errored, hung or crashed its process."""
        return self in _WRONG_OUTCOMES


# Sets, not tuples built at every call: the verdicts ask these for every test of every run.
_BAD_OUTCOMES = frozenset({Outcome.FAILED, Outcome.ERROR})
_WRONG_OUTCOMES = frozenset({Outcome.FAILED, Outcome.ERROR, Outcome.HANG, Outcome.CRASH})
_GOOD_OUTCOMES = frozenset({Outcome.PASSED, Outcome.SKIPPED, Outcome.XFAILED, Outcome.XPASSED})


class Verdict(str, enum.Enum):
    """What wsdoctor concludes about a test: by `run` from all its plans, by `bisect` for a victim."""

    PASS = "pass"
    FAIL = "fail"
    ORDER_DEPENDENT = "order-dependent"  # fails after some other tests, passes alone
    BRITTLE = "brittle"  # passes after some other tests, fails alone
    FLAKY = "flaky"
    HANG = "hang"
    CRASH = "crash"
    COLLECTION_ERROR = "collection-error"
    NOT_RUN = "not-run"  # no run gave it an outcome: never a pass
    SKIP = "skip"  # skipped in every run
    XFAIL = "xfail"  # failed as expected (xfail) in every run
    FAILS_ALONE = "fails-alone"  # bisect: the victim fails alone too, no other test is to blame
    NOT_REPRODUCED = "not-reproduced"  # bisect: no order tried made the victim fail

    @property
    def is_finding(self) -> bool:
        """Something is wrong: every verdict but pass, skip and xfail."""
        return self not in _NOT_FINDINGS


_NOT_FINDINGS = frozenset({Verdict.PASS, Verdict.SKIP, Verdict.XFAIL})

# What `run` gives each test (in this order in the summaries), and what `bisect` gives a victim.
RunVerdict = Literal[Verdict.PASS, Verdict.FAIL, Verdict.ORDER_DEPENDENT, Verdict.BRITTLE, Verdict.FLAKY,
                     Verdict.HANG, Verdict.CRASH, Verdict.COLLECTION_ERROR, Verdict.NOT_RUN, Verdict.SKIP,
                     Verdict.XFAIL]
RUN_VERDICTS: tuple[RunVerdict, ...] = (
    Verdict.PASS, Verdict.FAIL, Verdict.ORDER_DEPENDENT, Verdict.BRITTLE, Verdict.FLAKY, Verdict.HANG,
    Verdict.CRASH, Verdict.COLLECTION_ERROR, Verdict.NOT_RUN, Verdict.SKIP, Verdict.XFAIL)
BisectVerdict = Literal[Verdict.ORDER_DEPENDENT, Verdict.BRITTLE, Verdict.FAILS_ALONE, Verdict.FLAKY,
                        Verdict.NOT_REPRODUCED]
FOUND_BY_BISECT = frozenset({Verdict.ORDER_DEPENDENT, Verdict.BRITTLE})  # a culprit, proven


class Scope(str, enum.Enum):
    """What a bisect's polluters are."""

    TEST = "test"  # one test
    TESTS = "tests"  # several tests, needed together
    FILE_IMPORT = "file-import"  # collecting a file is enough: its import pollutes


class Confidence(str, enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _CONFIDENCE_RANKS.index(self)

    def moved(self, steps: int) -> Confidence:
        """``steps`` levels up (or down, when negative), within low..high."""
        return _CONFIDENCE_RANKS[max(0, min(self.rank + steps, len(_CONFIDENCE_RANKS) - 1))]


_CONFIDENCE_RANKS = (Confidence.LOW, Confidence.MEDIUM, Confidence.HIGH)


class Isolation(str, enum.Enum):
    """`run --isolate`: every file, or every test, in a child of its own."""

    FILE = "file"
    TEST = "test"


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
    LINGERED = "lingered"  # pytest finished, but the process did not exit: a thread kept it alive


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
    hung: bool = False  # importing it overran the collection deadline; message: where it was blocked


@dataclass(frozen=True, slots=True)
class Collection:
    rootdir: str
    inifile: str | None
    tests: tuple[CollectedTest, ...]
    errors: tuple[CollectionError, ...] = ()

    @property
    def hung(self) -> tuple[str, ...]:
        """Files whose import hung: every later child ignores them (--ignore)."""
        return tuple(error.path for error in self.errors if error.hung)

    def path_of(self, nodeid: str) -> str:
        path = _paths_by_id(self.tests).get(nodeid)
        return path if path is not None else nodeid.split("::", 1)[0]


# The index of the last few collections asked (by identity: a collection's tests never change).
# Looking each id up among all tests made every plan of a 2,000-test bisect cost O(N^2): 2 s.
_PATH_INDEXES: list[tuple[tuple[CollectedTest, ...], dict[str, str]]] = []


def _paths_by_id(tests: tuple[CollectedTest, ...]) -> dict[str, str]:
    for known, paths in _PATH_INDEXES:
        if known is tests:
            return paths
    index: dict[str, str] = {}
    for test in tests:
        index.setdefault(test.nodeid, test.path)
    _PATH_INDEXES[:] = [(tests, index), *_PATH_INDEXES[:3]]
    return index


@dataclass(frozen=True, slots=True)
class Plan:
    """Tests to run in this order in a fresh child process (continued in a new one after a crash)."""

    label: str
    context: Context
    collect_args: tuple[str, ...]
    test_ids: tuple[str, ...]
    attempt: int = 0  # 0, 1, ...: plans of the same tests in the same order differ only here
    state_probes: bool = False  # the child's state probes record what each test and import changed
    child_shuffle: int | None = None  # the child shuffled what it collected with this seed (test_ids: what it ran)

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
class AliveThread:
    """A non-daemon thread still alive when a child's session finished: the process waits for it."""

    name: str
    started_by: str = ""  # the test during which it started ("": before the first test)


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
    notes: tuple[str, ...] = ()  # what wsdoctor could not read of what the child left
    threads_alive: tuple[AliveThread, ...] = ()  # when it LINGERED: the threads that kept it alive
    began: float = 0.0  # time.time() at its start and its end: which children ran at the same time
    ended: float = 0.0


@dataclass(frozen=True, slots=True)
class PlanResult:
    """A plan, executed: every test's result, and the child processes it took."""

    plan: Plan
    results: tuple[TestResult, ...]
    children: tuple[ChildProcess, ...]
    collect_errors: tuple[str, ...] = ()  # collectors that failed in these children
    missing: tuple[str, ...] = ()  # ids of the plan its children collected no test for
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
    concurrent: bool = False  # its child ran while other children of the run ran: it may have been disturbed


@dataclass(frozen=True, slots=True)
class TestVerdict:
    __test__: ClassVar[bool] = False

    nodeid: str
    verdict: RunVerdict
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
    verdict: Verdict
    message: str = ""
    text: str = ""  # the whole failure text: traceback, hang dump, collection error
    warnings: tuple[str, ...] = ()
    leaked: tuple[StateChange, ...] = ()
    polluters: tuple[str, ...] = ()
    scope: Scope | None = None
    static: tuple[StaticFinding, ...] = ()
    outcomes: tuple[str, ...] = ()  # "suite failed ×2 · alone passed ×2", "bisect: ..."
    commands: tuple[str, ...] = ()  # plain-pytest commands that show it
    from_run: bool = True  # False: from a CI artifact only, nothing was re-run
    others: tuple[str, ...] = ()  # more tests with the same evidence, folded into this one
    from_audit: bool = False  # state a test left changed (run --audit), whether or not anything failed
    facts: tuple[tuple[str, str | tuple[str, ...]], ...] = ()  # names from the user's code, for advice

    @property
    def tests(self) -> tuple[str, ...]:
        return (self.nodeid, *self.others)


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
    isolate: Isolation | None = None
    workers: int = 1
    timeout: float = 60.0
    collect_timeout: float | None = None  # per file collected; None: derived from timeout
    audit: bool = False  # record the state every test leaves changed
    bisect: bool = False  # bisect every order-dependent test found


@dataclass(frozen=True, slots=True)
class BisectResult:
    victim: str
    verdict: BisectVerdict
    summary: str
    polluters: tuple[str, ...] = ()
    scope: Scope | None = None
    state_setters: tuple[str, ...] = ()
    leaked_state: tuple[StateChange, ...] = ()
    cleaners: tuple[str, ...] = ()
    confidence: Confidence | None = None  # of a culprit found: how reliably the proof reproduced
    confidence_detail: str = ""  # the counts behind it
    trials: int = 0  # child runs of tests (collection not counted)
    seconds: float = 0.0
    reproduce: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()  # what was tried, in order
    failure: TestResult | None = None  # the victim's, in the failing order (or alone, if brittle)
    # `run --bisect`: victims that share one cause. The bisected result lists the victims its
    # answer was confirmed for; each of them names the victim whose bisect found it.
    explains: tuple[str, ...] = ()
    explained_by: str | None = None


@dataclass(frozen=True, slots=True)
class BisectOptions:
    victim: str
    paths: tuple[str, ...] = ()
    pytest_args: tuple[str, ...] = ()
    python: str = "python"
    workers: int = 2
    timeout: float = 60.0
    collect_timeout: float | None = None  # per file collected; None: derived from timeout
    budget: float | None = None  # seconds; None: derived from the first run of the suite
    budget_runs: int | None = None  # child runs; None: derived from the number of tests
    repeat: int = 1  # every trial run this often
    from_run: str | None = None  # the run whose failing order it started from
    order_file: str | None = None
    randomly_seed: int | None = None


@dataclass(frozen=True, slots=True)
class Owner:
    """The wsdoctor process writing a record: a record still `running` whose owner is gone was abandoned."""

    pid: int
    started: int = 0  # the process's start time (clock ticks since boot, Linux): a pid can be reused


@dataclass(frozen=True, slots=True)
class BisectRecord:
    """One `wsdoctor bisect` (or one victim of `run --bisect`), kept in a directory of its own."""

    id: str
    wsdoctor_version: str
    cwd: str
    options: BisectOptions
    status: RecordStatus
    created: float = 0.0  # time.time(): records are ordered by it
    owner: Owner | None = None  # the wsdoctor process that writes it
    collection: Collection | None = None
    versions: Versions | None = None
    result: BisectResult | None = None
    kind: Literal[RecordKind.BISECT] = RecordKind.BISECT
    schema: int = RECORD_SCHEMA


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: str
    wsdoctor_version: str
    cwd: str
    options: RunOptions
    status: RecordStatus
    versions: Versions | None = None
    collection: Collection | None = None
    plan_results: tuple[PlanResult, ...] = ()
    verdicts: tuple[TestVerdict, ...] = ()
    seconds: float = 0.0
    children_started: int = 0
    bisects: tuple[BisectResult, ...] = ()
    created: float = 0.0  # time.time(): records are ordered by it
    owner: Owner | None = None  # the wsdoctor process that writes it
    kind: Literal[RecordKind.RUN] = RecordKind.RUN
    schema: int = RECORD_SCHEMA

    def findings(self) -> tuple[TestVerdict, ...]:
        return tuple(v for v in self.verdicts if v.verdict.is_finding)

    def lingering(self) -> tuple[tuple[str, ChildProcess], ...]:
        """(plan label, child) of every child whose session finished and whose process did not exit."""
        return tuple((run.plan.label, child) for run in self.plan_results for child in run.children
                     if child.status is ChildStatus.LINGERED)

    def audit(self) -> tuple[StateChange, ...]:
        """State left changed by each test (and import) of the probed suite runs: one in a run
        (its suite order's first), one per shard in a merged run."""
        changes: list[StateChange] = []
        for run in self.plan_results:
            if run.plan.state_probes and run.plan.context is Context.SUITE:
                changes += run.import_changes
                changes += [c for result in run.results for c in result.state_changes]
        return tuple(dict.fromkeys(changes))


Record = RunRecord | BisectRecord


@dataclass(frozen=True, slots=True)
class CiRecord:
    """What `wsdoctor ci` (or `merge`) adds to its run: ci.json beside run.json."""

    run_id: str
    seed: int | None  # of the shuffled order
    seed_source: str  # where the seed came from: --seed, the CI run's id, or chance
    shard: str | None = None  # "K/N"
    files: tuple[str, ...] = ()  # a shard's test files
    suite_files: tuple[str, ...] = ()  # a shard's: every file of the whole suite, in its order
    fail_on: tuple[str, ...] = ()
    baseline: str = ""
    passed: bool = False
    exit_code: int = 0
    not_bisected: tuple[str, ...] = ()  # order-dependent victims the --budget left no time for
    merged_from: tuple[str, ...] = ()  # `merge`: the records combined
    notes: tuple[str, ...] = ()  # what the split of shards did to orders (merge)


class FixSource(str, enum.Enum):
    """Where a candidate patch of `wsdoctor fix` comes from."""

    REWRITE = "rewrite"  # the polluting statement itself, rewritten (os.environ[...] = -> monkeypatch.setenv)
    CLEANER = "cleaner"  # a cleaner test's statements, minimised, as the polluter's teardown
    STATE = "state"  # a fixture that saves and restores the leaked state, from its kind


@dataclass(frozen=True, slots=True)
class ProofStep:
    """One step of a candidate's proof: a child run in a scratch copy of the project, and what it showed."""

    name: str  # "the polluters, then the victim", "the victim alone", ...
    passed: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class FixCandidate:
    title: str  # one line, in the project's names
    source: FixSource
    files: tuple[str, ...]  # what it changes, relative to the project
    diff: str  # unified, `patch -p1` / `git apply` from the project's directory
    proven: bool = False
    whole_order: bool = False  # proven, and the victim passes in the failing order as a whole too
    steps: tuple[ProofStep, ...] = ()
    dropped: str = ""  # why it was not proven ("": proven, or not tried)
    tried: bool = False
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class FixResult:
    """`wsdoctor fix` for one cause (a bisect's answer): its candidates, best first, each proven or dropped.

    Kept as fix.json beside the bisect's record."""

    victim: str
    bisect: str  # the bisect record's id
    victims: tuple[str, ...] = ()  # every victim the patch must make pass (the bisected one and those it explains)
    polluters: tuple[str, ...] = ()
    candidates: tuple[FixCandidate, ...] = ()
    reason: str = ""  # why there is no proven patch ("": there is one)
    python: str = ""  # the version of the interpreter the proof ran on
    order: tuple[str, ...] = ()  # the failing order the patch was proven against (the bisect's largest), victim last
    collect: tuple[str, ...] = ()  # what that order collected (more than its tests' files: import pollution)
    runs: int = 0  # child runs of the proof
    seconds: float = 0.0

    @property
    def proven(self) -> FixCandidate | None:
        """The answer: the first proven candidate after which the failing order passes as a whole, else
        the first proven one (the order then fails for another cause too)."""
        proven = [candidate for candidate in self.candidates if candidate.proven]
        return next((candidate for candidate in proven if candidate.whole_order), next(iter(proven), None))
