"""The CI gate (pure): a run's findings, the verdicts that fail the job, and the baseline of
accepted findings -> whether the build passes, and why.

Verdicts are matched by their names. A test that did not run (`not-run`) fails the build whatever
--fail-on says and whatever the baseline accepts: a gate never passes a build on a test it did not
see run.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from wsdoctor.analysis.audit import significant
from wsdoctor.records import RUN_VERDICTS, CiRecord, RunRecord, StateChange, TestVerdict, Verdict

LEAKED_STATE = "leaked-state"  # a test (or a file's import) left process-global state changed (--audit)
NOT_RUN = "not-run"  # the test never ran: a gate must not pass a build on it
# What a gate can fail on: the verdicts that are findings (not pass, skip, xfail), and state left changed.
GATE_VERDICTS: tuple[str, ...] = tuple(dict.fromkeys((*(v.value for v in RUN_VERDICTS if v.is_finding), NOT_RUN,
                                                      LEAKED_STATE)))
DEFAULT_FAIL_ON: tuple[str, ...] = (
    Verdict.ORDER_DEPENDENT.value, Verdict.BRITTLE.value, Verdict.FLAKY.value, Verdict.HANG.value,
    Verdict.CRASH.value, Verdict.COLLECTION_ERROR.value, LEAKED_STATE, NOT_RUN)


def unknown_verdicts(names: Iterable[str]) -> list[str]:
    return [name for name in names if name not in GATE_VERDICTS]


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a run found that a gate may fail on: a verdict, or state left changed."""

    test: str  # a node id; a file path (collection); for leaked state, the test or file that left it
    verdict: str  # one of GATE_VERDICTS
    state: str = ""  # leaked state: "kind name"
    message: str = ""
    reason: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.test, self.verdict, self.state)

    @property
    def path(self) -> str:
        return self.test.split("::", 1)[0]


@dataclass(frozen=True, slots=True)
class BaselineEntry:
    """An accepted finding: reported, but it does not fail the job (until it expires)."""

    test: str
    verdict: str
    reason: str
    state: str = ""
    expires: datetime.date | None = None
    polluters: tuple[str, ...] = ()  # what a bisect found to break it, when it was accepted
    run: str = ""  # the run it was accepted from: its record is kept while the entry is there

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.test, self.verdict, self.state)

    def expired(self, today: datetime.date) -> bool:
        return self.expires is not None and self.expires < today


@dataclass(frozen=True, slots=True)
class GateDecision:
    fail_on: tuple[str, ...]
    failing: tuple[Finding, ...] = ()  # new findings of a verdict in fail_on
    accepted: tuple[tuple[Finding, BaselineEntry], ...] = ()  # baselined: reported, not failing
    expired: tuple[tuple[Finding, BaselineEntry], ...] = ()  # baselined, but past the expiry date: failing
    fixed: tuple[BaselineEntry, ...] = ()  # baseline entries that no longer occur
    reported: tuple[Finding, ...] = ()  # findings of verdicts not in fail_on: shown, not failing
    not_bisected: tuple[str, ...] = ()  # order-dependent victims the --budget left no time for

    @property
    def passed(self) -> bool:
        return not self.failing and not self.expired

    def entry_for(self, finding: Finding) -> BaselineEntry | None:
        return next((entry for found, entry in (*self.accepted, *self.expired) if found.key == finding.key), None)


def findings_of(record: RunRecord) -> tuple[Finding, ...]:
    """Every verdict that is a finding (not pass, skip, xfail), the state each test or import left
    changed that can break another test, and sessions that did not exit: what `run` exits 1 on."""
    found = [Finding(test=v.nodeid, verdict=v.verdict.value, message=_message_of(v), reason=v.reason)
             for v in record.findings()]
    found += [leaked_finding(change) for change in significant(record.audit())]  # noise breaks no other test
    found += _sessions_that_did_not_exit(record)
    unique: dict[tuple[str, str, str], Finding] = {}
    for finding in found:  # a change seen twice (a leak of two tests' imports, two shards) is one finding
        unique.setdefault(finding.key, finding)
    return tuple(unique.values())


def _sessions_that_did_not_exit(record: RunRecord) -> list[Finding]:
    """A child whose tests all finished and whose process did not exit: plain pytest waits there for
    ever, so it is a hang, of the test that started a thread still alive (else of its last test)."""
    found = []
    for label, child in record.lingering():
        last = child.started[-1] if child.started else label
        for thread in child.threads_alive or (None,):
            where = f"session did not exit: thread {stable_name('thread', thread.name)}" if thread else \
                "session did not exit"
            found.append(Finding(test=(thread.started_by if thread else "") or last, verdict=Verdict.HANG.value,
                                 state=where, reason=f"{where} after its last test in {label}; plain pytest "
                                                     "waits for it for ever"))
    return found


def leaked_finding(change: StateChange) -> Finding:
    shown_before = "(absent)" if change.before is None else change.before
    shown_after = "(absent)" if change.after is None else change.after
    return Finding(test=change.by, verdict=LEAKED_STATE, state=f"{change.kind} {stable_name(change.kind, change.name)}",
                   message=f"{change.kind} {change.name}: {shown_before} -> {shown_after}",
                   reason="left process-global state changed")


_VOLATILE = {
    "thread": re.compile(r"\d+"),  # Thread-73: numbered by how many threads the process made before
    "socket": re.compile(r"(?<=:)\d+"),  # a port the OS chose
}
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")


def stable_name(kind: str, name: str) -> str:
    """A piece of state's name without what changes from one run to the next (thread numbers,
    ports, addresses), so that a baseline entry keeps matching it."""
    name = _ADDRESS.sub("0x…", name)
    volatile = _VOLATILE.get(kind)
    return volatile.sub("N", name) if volatile else name


def _message_of(verdict: TestVerdict) -> str:
    return verdict.detail or next((o.message for o in verdict.observations if o.message), "")


def decide(findings: Sequence[Finding], fail_on: Sequence[str], baseline: Sequence[BaselineEntry],
           today: datetime.date, in_scope: Iterable[str], not_bisected: Sequence[str] = ()) -> GateDecision:
    """The gate. ``in_scope``: the tests and files this run covered (a shard covers some), so that
    a baseline entry of a test run elsewhere is not taken for fixed."""
    entries = {entry.key: entry for entry in baseline}
    failing: list[Finding] = []
    reported: list[Finding] = []
    accepted: list[tuple[Finding, BaselineEntry]] = []
    expired: list[tuple[Finding, BaselineEntry]] = []
    for finding in findings:
        entry = entries.get(finding.key)
        if finding.verdict == NOT_RUN:  # never accepted, never left out
            failing.append(finding)
        elif entry is not None:
            (expired if entry.expired(today) else accepted).append((finding, entry))
        elif finding.verdict in fail_on:
            failing.append(finding)
        else:
            reported.append(finding)
    occurring = {finding.key for finding in findings}
    scope = set(in_scope)
    fixed = [entry for entry in baseline if entry.key not in occurring
             and (entry.test in scope or entry.test.split("::", 1)[0] in scope)]
    return GateDecision(fail_on=tuple(fail_on), failing=tuple(failing), accepted=tuple(accepted),
                        expired=tuple(expired), fixed=tuple(fixed), reported=tuple(reported),
                        not_bisected=tuple(not_bisected))


def scope_of(record: RunRecord) -> set[str]:
    """The tests and files a run covered."""
    collection = record.collection
    if collection is None:
        return set()
    return {*(t.nodeid for t in collection.tests), *(t.path for t in collection.tests),
            *(e.path for e in collection.errors)}


@dataclass(frozen=True, slots=True)
class BaselineUpdate:
    entries: tuple[BaselineEntry, ...]
    added: tuple[BaselineEntry, ...]
    removed: tuple[BaselineEntry, ...]  # fixed: in this run's scope and no longer found


def updated_baseline(existing: Sequence[BaselineEntry], findings: Sequence[Finding], fail_on: Sequence[str],
                     in_scope: Iterable[str], reason: str, expires: datetime.date | None,
                     polluters: dict[str, tuple[str, ...]], run: str = "") -> BaselineUpdate:
    """Every finding that would fail the gate, accepted; entries kept with their reasons and dates
    while they still occur (or belong to tests this run did not cover); fixed ones removed."""
    occurring = {finding.key for finding in findings}
    scope = set(in_scope)
    kept: list[BaselineEntry] = []
    removed: list[BaselineEntry] = []
    for entry in existing:
        covered = entry.test in scope or entry.test.split("::", 1)[0] in scope
        (removed if covered and entry.key not in occurring else kept).append(entry)
    known = {entry.key for entry in kept}
    added = tuple(BaselineEntry(test=f.test, verdict=f.verdict, reason=reason, state=f.state, expires=expires,
                                polluters=polluters.get(f.test, ()), run=run)
                  for f in findings if f.verdict in fail_on and f.verdict != NOT_RUN and f.key not in known)
    return BaselineUpdate(entries=(*kept, *added), added=added, removed=tuple(removed))


@dataclass(frozen=True, slots=True)
class GateReport:
    """Everything the CI writers show: the run, what ci added, the gate, the insights per test."""

    record: RunRecord
    ci: CiRecord
    decision: GateDecision
    insights: dict[str, tuple[str, ...]]  # test -> playbook ids ("unmatched" when none explains it)
    reports_dir: str = ""  # where the insight reports were written

    def gate_status(self, finding: Finding) -> str:
        """failing, expired, accepted or reported."""
        for name, found in (("failing", self.decision.failing), ("reported", self.decision.reported)):
            if any(f.key == finding.key for f in found):
                return name
        return "expired" if any(f.key == finding.key for f, _ in self.decision.expired) else "accepted"

    def findings(self) -> tuple[Finding, ...]:
        d = self.decision
        return (*d.failing, *(f for f, _ in d.expired), *(f for f, _ in d.accepted), *d.reported)

    def location(self, test: str) -> tuple[str, int]:
        """The file and 1-based line of a test (a file: its first line)."""
        collection = self.record.collection
        for collected in collection.tests if collection else ():
            if collected.nodeid == test:
                return collected.path, (collected.lineno or 0) + 1
        return test.split("::", 1)[0], 1
