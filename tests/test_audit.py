"""`run --audit`: what can break another test first, the noise folded, and the findings in `report` (fast)."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

from rich.console import Console

from tests.test_from_records import record, store
from wsdoctor.analysis.audit import Risk, ranked, significant
from wsdoctor.exits import ExitCode, run_exit
from wsdoctor.records import Context, Outcome, Plan, PlanResult, RunOptions, StateChange, TestResult
from wsdoctor.render.json_out import run_document
from wsdoctor.render.terminal import render_run

T1, T2, T3 = "tests/test_a.py::test_one", "tests/test_b.py::test_two", "tests/test_c.py::test_three"
CACHES = [StateChange("module-attr", f"app.lib.cached_{n}", "lru_cache currsize=0", "lru_cache currsize=3", T1)
          for n in range(60)]
WORKERS = [StateChange("thread", f"worker {n}", None, "daemon", T1) for n in range(12)]
WORKERS_GONE = [StateChange("thread", f"worker {n}", "daemon", None, T2) for n in range(12)]
REAL = [StateChange("module-attr", "app.routing.CONVERTOR_TYPES", "dict len=5", "dict len=6", T2),
        StateChange("environ", "TESTING", None, "True", T3),
        StateChange("signal", "SIGINT", "default_int_handler", "signal_handler", T3)]
NULL_HANDLER = StateChange("logging", "urllib3", None, "NullHandler", "tests/test_c.py")


def audited_run(tmp_path: Path, changes: list[StateChange]) -> object:
    by_test: dict[str, list[StateChange]] = {}
    for change in changes:
        by_test.setdefault(change.by, []).append(change)
    plan = Plan("suite", Context.SUITE, ("tests",), tuple(by_test), state_probes=True)
    results = tuple(TestResult(test, Outcome.PASSED,
                               state_changes=tuple(found)) for test, found in by_test.items())
    return dataclasses.replace(record(tmp_path), verdicts=(), plan_results=(PlanResult(plan, results, ()),),
                               options=RunOptions(paths=(), pytest_args=(), python="python", audit=True))


def test_real_leaks_come_first_and_the_noise_is_folded() -> None:
    found = ranked([*CACHES, *WORKERS, *REAL, *WORKERS_GONE, NULL_HANDLER])
    assert [r.change for r in found[:3]] == REAL and {r.risk for r in found[:3]} == {Risk.HIGH}
    assert {r.risk for r in found[3:]} == {Risk.NOISE}
    assert significant([*CACHES, *WORKERS, *WORKERS_GONE, NULL_HANDLER]) == []


def test_a_thread_still_running_at_the_end_is_listed() -> None:
    assert [r.risk for r in ranked(WORKERS)] == [Risk.LOW] * 12


def test_the_audit_table_shows_the_leaks_and_one_line_for_the_noise(tmp_path: Path) -> None:
    run = audited_run(tmp_path, [*CACHES, *WORKERS, *REAL, *WORKERS_GONE])
    console = Console(file=io.StringIO(), width=200, color_system=None)
    render_run(run, console, "record")  # type: ignore[arg-type]
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "audit: 3 change(s) left behind that can break another test, riskiest first" in text
    assert text.index("CONVERTOR_TYPES") < text.index("TESTING") < text.index("SIGINT")
    assert "and 60 cache(s) that only grew, 12 thread(s) gone by the end of the session: not listed" in text
    assert "cached_1" not in text
    document = run_document(run, 1)  # type: ignore[arg-type]
    assert [c["risk"] for c in document["audit"]][:4] == ["high", "high", "high", "noise"]
    assert len(document["audit"]) == 60 + 24 + 3


def test_an_audit_that_found_only_noise_passes(tmp_path: Path) -> None:
    assert run_exit(audited_run(tmp_path, [*CACHES, *WORKERS, *WORKERS_GONE, NULL_HANDLER])) is ExitCode.OK  # type: ignore[arg-type]
    assert run_exit(audited_run(tmp_path, REAL)) is ExitCode.FINDINGS  # type: ignore[arg-type]


def test_the_audit_reaches_the_report(tmp_path: Path, wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    store(tmp_path, audited_run(tmp_path, [*CACHES, *REAL]))  # type: ignore[arg-type]
    done = wsdoctor_in_process(tmp_path, "report", "--out", "report.json")
    insights = json.loads((tmp_path / "report.json").read_text())["insights"]
    assert done.exit_code == 0, done.stderr
    [audit] = [i for i in insights if i["playbook"] == "state-left-behind"]
    assert sorted(audit["tests"]) == [T2, T3]
    leaked = {e["test"]: [c["name"] for c in e["leaked_state"]] for e in audit["evidence"]}
    assert leaked == {T2: ["app.routing.CONVERTOR_TYPES"], T3: ["TESTING", "SIGINT"]}
    assert [i["playbook"] for i in insights] == ["state-left-behind"]  # no playbook for failures matched


def test_a_value_bound_under_two_names_is_one_row_and_one_leak() -> None:
    from wsdoctor.analysis.leaks import replay_until

    # `from app.ws import manager` in app.main: the probes describe both names, one change is seen twice
    home = StateChange("module-attr", "app.ws.manager.active", "dict len=0", "dict len=1 keys=['ws-1']", T1)
    alias = dataclasses.replace(home, name="app.main.manager.active")
    other = dataclasses.replace(home, name="app.rooms.lobby.members", by=T2)
    assert [r.change for r in ranked([home, alias, other])] == [home, other]
    plan = Plan("suite", Context.SUITE, ("tests",), (T1, T2, T3), state_probes=True)
    results = (TestResult(T1, Outcome.PASSED, state_changes=(home, alias)),
               TestResult(T2, Outcome.PASSED, state_changes=(other,)), TestResult(T3, Outcome.FAILED))
    leaks = replay_until(PlanResult(plan, results, ()), T3).leaks
    assert [leak.change.name for leak in leaks] == ["app.ws.manager.active", "app.rooms.lobby.members"]


def test_a_name_that_keeps_a_value_after_its_home_was_rebound_is_listed() -> None:
    # starlette.routing does `from starlette.convertors import CONVERTOR_TYPES`; a module fixture
    # rebinds convertors.CONVERTOR_TYPES to a copy at teardown: routing keeps the registration.
    home = StateChange("module-attr", "starlette.convertors.CONVERTOR_TYPES", "dict len=5", "dict len=6", T1)
    alias = dataclasses.replace(home, name="starlette.routing.CONVERTOR_TYPES")
    put_back = StateChange("module-attr", home.name, "dict len=6", "dict len=5", "fixture refresh (teardown)")
    assert [r.change for r in ranked([home, alias, put_back])] == [home, alias, put_back]
