"""The gate and the baseline, from records made by hand (no child process)."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

import pytest
import yaml

from tests.conftest import make_project
from wsdoctor.analysis.gate import (
    DEFAULT_FAIL_ON,
    GATE_VERDICTS,
    LEAKED_STATE,
    BaselineEntry,
    decide,
    findings_of,
    leaked_finding,
    scope_of,
    updated_baseline,
)
from wsdoctor.baseline import read_baseline, write_baseline
from wsdoctor.exits import UsageError
from wsdoctor.records import (
    AliveThread,
    BisectResult,
    ChildProcess,
    ChildStatus,
    CollectedTest,
    Collection,
    Context,
    Outcome,
    Plan,
    PlanResult,
    RecordStatus,
    RunOptions,
    RunRecord,
    Scope,
    StateChange,
    TestResult,
    TestVerdict,
    Verdict,
)
from wsdoctor.store import create_record_dir, save_record

VICTIM = "tests/test_ratelimit.py::test_61st_message_in_a_minute_is_rejected"
POLLUTER = "tests/test_admin.py::test_admin_can_raise_the_limit"
FAILS = "tests/test_rooms.py::test_broken"
CLEAN = "tests/test_rooms.py::test_normalise"
TODAY = datetime.date(2026, 12, 5)
LIMITS = StateChange(kind="module-attr", name="app.ratelimit.LIMITS", before="dict len=1 {'messages_per_minute': 60}",
                     after="dict len=1 {'messages_per_minute': 600}", by=POLLUTER)


def a_run(verdicts: dict[str, Verdict], leaks: tuple[StateChange, ...] = (), run_id: str = "r1",
          bisects: tuple[BisectResult, ...] = ()) -> RunRecord:
    tests = tuple(CollectedTest(nodeid, nodeid.split("::")[0]) for nodeid in (POLLUTER, VICTIM, FAILS, CLEAN))
    results = tuple(TestResult(nodeid, Outcome.PASSED, state_changes=tuple(c for c in leaks if c.by == nodeid))
                    for nodeid in (POLLUTER, VICTIM, FAILS, CLEAN))
    suite = PlanResult(plan=Plan("suite", Context.SUITE, ("tests",), tuple(r.nodeid for r in results),
                                 state_probes=True),
                       results=results, children=(ChildProcess(ChildStatus.COMPLETED, 0, 0.1, "", ()),))
    return RunRecord(id=run_id, wsdoctor_version="0", cwd="/p", status=RecordStatus.COMPLETE,
                     options=RunOptions(paths=(), pytest_args=(), python="python", audit=True),
                     collection=Collection(rootdir="/p", inifile=None, tests=tests), plan_results=(suite,),
                     verdicts=tuple(TestVerdict(nodeid, verdict, reason=f"{verdict.value} because")
                                    for nodeid, verdict in verdicts.items()),
                     bisects=bisects, created=1.0)


NEW_VICTIM = a_run({POLLUTER: Verdict.PASS, VICTIM: Verdict.ORDER_DEPENDENT, FAILS: Verdict.FAIL,
                    CLEAN: Verdict.PASS}, leaks=(LIMITS,))
ALL_PASS = a_run(dict.fromkeys((POLLUTER, VICTIM, FAILS, CLEAN), Verdict.PASS))


def gate(record: RunRecord, baseline: tuple[BaselineEntry, ...] = (), fail_on: tuple[str, ...] = DEFAULT_FAIL_ON):
    return decide(findings_of(record), fail_on, baseline, TODAY, scope_of(record))


def test_findings_are_the_verdicts_other_than_pass_and_the_state_left_changed() -> None:
    found = [(f.test, f.verdict, f.state) for f in findings_of(NEW_VICTIM)]
    assert found == [(VICTIM, "order-dependent", ""), (FAILS, "fail", ""),
                     (POLLUTER, LEAKED_STATE, "module-attr app.ratelimit.LIMITS")]


def test_skips_and_xfails_are_not_findings() -> None:
    record = a_run({POLLUTER: Verdict.SKIP, VICTIM: Verdict.XFAIL, FAILS: Verdict.FAIL, CLEAN: Verdict.PASS})
    assert [f.test for f in findings_of(record)] == [FAILS]


def test_leaked_state_is_what_the_audit_counts_not_its_noise() -> None:
    # As `run --audit`: a thread gone by the end, a cache that only grew, a library's NullHandler
    # break no other test and fail nothing.
    noise = (StateChange(kind="thread", name="Thread-7 (_send_ping)", before=None, after="daemon", by=VICTIM),
             StateChange(kind="thread", name="Thread-7 (_send_ping)", before="daemon", after=None, by=CLEAN),
             StateChange(kind="module-attr", name="app.routes.lookup", before="lru_cache currsize=1",
                         after="lru_cache currsize=2", by=CLEAN),
             StateChange(kind="logging", name="charset_normalizer", before=None, after="NullHandler", by=CLEAN))
    record = a_run(dict.fromkeys((POLLUTER, VICTIM, FAILS, CLEAN), Verdict.PASS), leaks=(LIMITS, *noise))
    assert [(f.test, f.state) for f in findings_of(record)] == [(POLLUTER, "module-attr app.ratelimit.LIMITS")]


def test_a_session_that_did_not_exit_is_a_hang_of_the_test_that_started_its_thread() -> None:
    # Plain pytest waits for ever there: `run` exits 1 on it, and so must the gate.
    record = a_run(dict.fromkeys((POLLUTER, VICTIM, FAILS, CLEAN), Verdict.PASS))
    [suite] = record.plan_results
    lingered = ChildProcess(ChildStatus.LINGERED, None, 3.0, "", suite.plan.test_ids,
                            threads_alive=(AliveThread("Thread-3 (heartbeat)", started_by=VICTIM),))
    unnamed = ChildProcess(ChildStatus.LINGERED, None, 3.0, "", (POLLUTER, VICTIM))
    plans = (dataclasses.replace(suite, children=(lingered,)), dataclasses.replace(suite, children=(unnamed,)))
    found = findings_of(dataclasses.replace(record, plan_results=plans))
    assert [(f.test, f.verdict, f.state) for f in found] == [
        (VICTIM, "hang", "session did not exit: thread Thread-N (heartbeat)"),
        (VICTIM, "hang", "session did not exit")]  # no thread named: its last test
    assert not decide(found, DEFAULT_FAIL_ON, (), TODAY, scope_of(record)).passed


def test_the_verdicts_a_gate_can_fail_on_are_the_findings_each_named_once() -> None:
    from wsdoctor.analysis.gate import GATE_VERDICTS

    assert len(set(GATE_VERDICTS)) == len(GATE_VERDICTS)
    assert {"pass", "skip", "xfail"}.isdisjoint(GATE_VERDICTS)
    assert set(DEFAULT_FAIL_ON) <= set(GATE_VERDICTS)


def test_a_new_order_dependent_victim_fails_the_gate_and_a_plain_failure_does_not_by_default() -> None:
    decision = gate(NEW_VICTIM)
    assert not decision.passed
    assert {f.test for f in decision.failing} == {VICTIM, POLLUTER}
    assert [f.test for f in decision.reported] == [FAILS]  # `fail` is not in the default --fail-on


def test_fail_on_chooses_what_fails() -> None:
    assert gate(NEW_VICTIM, fail_on=("fail",)).failing[0].test == FAILS
    assert gate(NEW_VICTIM, fail_on=("brittle",)).passed


def test_baselined_findings_pass_and_are_still_reported() -> None:
    baseline = (BaselineEntry(VICTIM, "order-dependent", "known, ticket 12"),
                BaselineEntry(POLLUTER, LEAKED_STATE, "admin raises it", state="module-attr app.ratelimit.LIMITS"))
    decision = gate(NEW_VICTIM, baseline)
    assert decision.passed
    assert [(f.test, e.reason) for f, e in decision.accepted] == [(VICTIM, "known, ticket 12"),
                                                                    (POLLUTER, "admin raises it")]
    assert decision.entry_for(decision.accepted[0][0]) == baseline[0]


def test_an_expired_entry_fails_again_and_one_expiring_today_does_not() -> None:
    entry = BaselineEntry(VICTIM, "order-dependent", "until the fix", expires=TODAY - datetime.timedelta(days=1))
    leak = BaselineEntry(POLLUTER, LEAKED_STATE, "ok", state="module-attr app.ratelimit.LIMITS")
    decision = gate(NEW_VICTIM, (entry, leak))
    assert not decision.passed
    assert [e for _, e in decision.expired] == [entry]
    today = BaselineEntry(VICTIM, "order-dependent", "until the fix", expires=TODAY)
    assert gate(NEW_VICTIM, (today, leak)).passed


def test_an_entry_that_no_longer_occurs_is_fixed_unless_its_test_was_not_run_here() -> None:
    elsewhere = BaselineEntry("tests/test_other_shard.py::test_x", "flaky", "shard 2's")
    entry = BaselineEntry(VICTIM, "order-dependent", "known")
    decision = gate(ALL_PASS, (entry, elsewhere))
    assert decision.passed
    assert decision.fixed == (entry,)


def test_a_verdict_only_issue_10_knows_yet_is_a_gate_verdict_by_name() -> None:
    from wsdoctor.analysis.gate import Finding

    decision = decide([Finding("tests/t.py::test_x", "not-run")], DEFAULT_FAIL_ON, (), TODAY, ())
    assert not decision.passed


def test_a_test_that_did_not_run_fails_the_build_whatever_fail_on_and_the_baseline_say() -> None:
    """On main `--fail-on order-dependent` (or a baseline entry) passed a build whose tests did not run."""
    from wsdoctor.analysis.gate import Finding

    unrun = Finding("tests/t.py::test_x", "not-run", reason="never started: pytest stopped with INTERNALERROR")
    accepting = (BaselineEntry(unrun.test, "not-run", "it never runs here"),)
    for fail_on in (DEFAULT_FAIL_ON, ("order-dependent",), ()):
        decision = decide([unrun], fail_on, accepting, TODAY, (unrun.test,))
        assert not decision.passed and decision.failing == (unrun,)
    assert updated_baseline((), [unrun], DEFAULT_FAIL_ON, (unrun.test,), "r", None, {}).added == ()
    assert GATE_VERDICTS.count("not-run") == 1


# --- the baseline file --------------------------------------------------------------------------


def test_the_baseline_file_round_trips(tmp_path: Path) -> None:
    entries = (BaselineEntry(VICTIM, "order-dependent", "known", expires=datetime.date(2027, 1, 31),
                             polluters=(POLLUTER,)),
               BaselineEntry(POLLUTER, LEAKED_STATE, "admin", state="module-attr app.ratelimit.LIMITS"))
    path = tmp_path / "wsdoctor-baseline.yaml"
    write_baseline(path, entries)
    assert read_baseline(path) == entries
    text = path.read_text()
    assert text.startswith("# wsdoctor baseline") and "expires: 2027-01-31" in text
    assert yaml.safe_load(text)["version"] == 1


def test_entries_that_share_a_date_each_have_their_own_in_the_file(tmp_path: Path) -> None:
    # One --expires for every new entry: the file must not tie them together with a YAML alias,
    # or editing one entry's date would change the other's.
    expires = datetime.date(2027, 1, 31)
    path = tmp_path / "wsdoctor-baseline.yaml"
    write_baseline(path, (BaselineEntry(VICTIM, "order-dependent", "known", expires=expires),
                          BaselineEntry(POLLUTER, LEAKED_STATE, "known", state="module-attr x", expires=expires)))
    text = path.read_text()
    assert text.count("expires: 2027-01-31") == 2 and "&" not in text and "*" not in text
    path.write_text(text.replace("expires: 2027-01-31", "expires: 2020-01-01", 1))
    assert [e.expires for e in read_baseline(path)] == [datetime.date(2020, 1, 1), expires]


def test_a_missing_baseline_is_empty_unless_it_was_named(tmp_path: Path) -> None:
    assert read_baseline(tmp_path / "none.yaml") == ()
    with pytest.raises(UsageError, match="does not exist; `wsdoctor baseline update` writes one"):
        read_baseline(tmp_path / "none.yaml", must_exist=True)


@pytest.mark.parametrize(("text", "expected"), [
    ("accepted: [[1]]", "entry 1: expected a mapping with test, verdict and reason"),
    ("accepted:\n- {test: t, verdict: flaky}", "entry 1: reason must be a non-empty string"),
    ("accepted:\n- {test: t, verdict: flakey, reason: r}", "verdict 'flakey' is not one of fail, order-dependent"),
    ("accepted:\n- {test: t, verdict: flaky, reason: r, expires: soon}", "expires must be a date, YYYY-MM-DD"),
    ("accepted:\n- {test: t, verdict: flaky, reason: r, why: x}", "entry 1: unknown key 'why'"),
    ("version: 9\naccepted: []", "version 9, this wsdoctor reads 1"),
    ("accepted: {a: 1}", "expected a mapping with an `accepted` list"),
    ("accepted: [", "cannot read baseline"),
])
def test_a_bad_baseline_is_one_line_naming_the_entry_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "b.yaml"
    path.write_text(text)
    with pytest.raises(UsageError) as raised:
        read_baseline(path)
    assert expected in str(raised.value) and "\n" not in str(raised.value)


def test_update_accepts_what_would_fail_keeps_reasons_and_removes_the_fixed() -> None:
    kept = BaselineEntry(VICTIM, "order-dependent", "the reason someone wrote", expires=TODAY)
    fixed = BaselineEntry(CLEAN, "flaky", "was flaky")
    elsewhere = BaselineEntry("tests/test_gone.py::test_y", "hang", "another shard's")
    update = updated_baseline((kept, fixed, elsewhere), findings_of(NEW_VICTIM), DEFAULT_FAIL_ON,
                              scope_of(NEW_VICTIM), "new reason", None, {VICTIM: (POLLUTER,)})
    assert update.removed == (fixed,)
    assert update.entries[:2] == (kept, elsewhere)
    assert [(e.test, e.verdict, e.reason) for e in update.added] == [(POLLUTER, LEAKED_STATE, "new reason")]


def test_baseline_update_then_the_gate_passes(tmp_path: Path, wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    project = make_project(tmp_path, {"pyproject.toml": "[project]\nname = 'p'\n"})
    bisect = BisectResult(victim=VICTIM, verdict=Verdict.ORDER_DEPENDENT, summary="", polluters=(POLLUTER,),
                          scope=Scope.TEST)
    run_id, run_dir = create_record_dir(project)
    save_record(run_dir, a_run(dict(zip((POLLUTER, VICTIM, FAILS, CLEAN), (Verdict.PASS, Verdict.ORDER_DEPENDENT,
                                                                          Verdict.FAIL, Verdict.PASS), strict=True)),
                               leaks=(LIMITS,), run_id=run_id, bisects=(bisect,)))
    done = wsdoctor_in_process(project, "baseline", "update", "--reason", "ticket 12", "--expires", "2027-01-31")
    assert done.exit_code == 0, done.stderr
    assert "2 accepted finding(s)" in done.stdout and "2 new, 0 removed" in done.stdout
    entries = read_baseline(project / "wsdoctor-baseline.yaml")
    assert [(e.test, e.verdict, e.reason, e.polluters) for e in entries] == [
        (VICTIM, "order-dependent", "ticket 12", (POLLUTER,)), (POLLUTER, LEAKED_STATE, "ticket 12", ())]
    assert all(e.expires == datetime.date(2027, 1, 31) for e in entries)
    record = a_run({VICTIM: Verdict.ORDER_DEPENDENT}, leaks=(LIMITS,))
    assert gate(record, entries).passed


@pytest.mark.parametrize(("args", "expected"), [
    (["baseline", "update"], "no wsdoctor run is recorded"),
    (["baseline", "update", "--expires", "tomorrow"], "--expires 'tomorrow': give a date as YYYY-MM-DD"),
    (["baseline", "update", "--fail-on", "flaky,wobbly"], "--fail-on 'wobbly': use verdicts out of"),
])
def test_baseline_update_bad_input(tmp_path: Path, args: list[str], expected: str,
                                   wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    done = wsdoctor_in_process(tmp_path, *args)
    assert done.exit_code == 2 and expected in done.stderr, done.stderr


@pytest.mark.parametrize(("kind", "name", "stable"), [
    ("thread", "Thread-73 (_send_ping)", "Thread-N (_send_ping)"),
    ("socket", "LISTEN 127.0.0.1:54321", "LISTEN 127.0.0.1:N"),
    ("module-attr", "app.handlers <object at 0x7f667be9f970>", "app.handlers <object at 0x…>"),
    ("module-attr", "app.ratelimit.LIMITS", "app.ratelimit.LIMITS"),
    ("environ", "DATABASE_URL_2", "DATABASE_URL_2"),
])
def test_leaked_state_is_named_without_what_changes_between_runs(kind: str, name: str, stable: str) -> None:
    finding = leaked_finding(StateChange(kind=kind, name=name, before=None, after="x", by="t.py::t"))
    assert finding.state == f"{kind} {stable}"
