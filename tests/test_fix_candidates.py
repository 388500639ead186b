"""`wsdoctor fix`, the pure part: candidates from a diagnosis, best first; delta debugging over a
cleaner's statements; what a proof runs and what it counts as a new failure (no process here)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from wsdoctor import records
from wsdoctor.analysis.fix import (
    CleanerTeardown,
    Diagnosis,
    FixtureTeardown,
    RestoreState,
    Rewrite,
    StubIntoFixture,
    candidates,
    identifier,
    minimal_subset,
    mutated_in_place,
    new_failures,
    no_candidate_reason,
    proof_plans,
    relevant_leaks,
    split_nodeid,
    wrong_every_time,
)
from wsdoctor.records import FixSource, Outcome, Scope, StateChange

POLLUTER = "tests/test_b.py::test_lock"
CLEANER = "tests/test_c.py::test_unlock"
VICTIM = "tests/test_d.py::test_victim"
COLLECTION = records.Collection(rootdir="/p", inifile=None, tests=tuple(
    records.CollectedTest(nodeid=n, path=n.split("::")[0]) for n in
    ("tests/test_a.py::test_one", POLLUTER, "tests/test_b.py::test_other", CLEANER, VICTIM)))
LOCKED = StateChange("module-attr", "app.rooms.LOCKED", "set len=0", "set len=1 keys=['lobby']", by=POLLUTER)


def diagnosis(**changes: object) -> Diagnosis:
    fields: dict[str, object] = {"victim": VICTIM, "victims": (VICTIM,), "polluters": (POLLUTER,),
                                 "scope": Scope.TEST, "leaks": (LOCKED,), "cleaners": (CLEANER,),
                                 "collection": COLLECTION}
    fields.update(changes)
    return Diagnosis(**fields)  # type: ignore[arg-type]


def test_candidates_come_best_first_rewrite_then_cleaner_then_state_next_to_the_polluter_then_conftest() -> None:
    found = candidates(diagnosis(), {"tests/test_b.py": ("tests/conftest.py",)})
    assert [c.source for c in found] == [FixSource.REWRITE, FixSource.CLEANER, FixSource.STATE, FixSource.STATE]
    assert found[0].edits == (Rewrite("tests/test_b.py", "test_lock", (LOCKED,)),)
    assert found[1].edits == (CleanerTeardown("tests/test_b.py", ("test_lock",), CLEANER),)
    assert found[2].edits == (RestoreState("tests/test_b.py", (LOCKED,), (POLLUTER,)),)
    assert found[3].edits == (RestoreState("tests/conftest.py", (LOCKED,), (POLLUTER,)),)
    assert "app.rooms.LOCKED" in found[2].title and "tests/test_b.py" in found[2].title


def test_with_several_leaks_the_most_relevant_alone_is_tried_before_all_of_them() -> None:
    cache = StateChange("module-attr", "app.settings.get_settings", "lru_cache currsize=0", "lru_cache currsize=1",
                        by=POLLUTER)
    found = [c for c in candidates(diagnosis(leaks=(LOCKED, cache), cleaners=()), {}) if c.source is FixSource.STATE]
    assert [e.leaks for c in found for e in c.edits if isinstance(e, RestoreState)] == [
        (LOCKED,), (LOCKED, cache), (LOCKED, cache)]


def test_a_conjunction_in_two_files_is_fixed_in_both_each_restoring_what_it_left() -> None:
    other = "tests/test_a.py::test_one"
    flags = StateChange("module-attr", "app.features.FLAGS", "dict len=0", "dict len=1", by=other)
    found = candidates(diagnosis(polluters=(other, POLLUTER), leaks=(LOCKED, flags), cleaners=()), {})
    most_relevant, both, _ = (c for c in found if c.source is FixSource.STATE)
    assert most_relevant.edits == (RestoreState("tests/test_b.py", (LOCKED,), (POLLUTER,)),)
    assert both.edits == (RestoreState("tests/test_a.py", (flags,), (other,)),
                          RestoreState("tests/test_b.py", (LOCKED,), (POLLUTER,)))


def test_an_import_time_stub_becomes_a_fixture_and_nothing_else_is_offered() -> None:
    stub = StateChange("sys.modules", "websockets", "module", "MagicMock @1", by="tests/unit/test_sm.py")
    found = candidates(diagnosis(polluters=("tests/unit/test_sm.py",), scope=Scope.FILE_IMPORT, leaks=(stub,)), {})
    assert [c.edits for c in found] == [(StubIntoFixture("tests/unit/test_sm.py", ("websockets",)),),
                                        (StubIntoFixture("tests/unit/test_sm.py", ("websockets",), False),)]
    assert "patch.dict(sys.modules), a mock made a real module" in found[0].title


def test_an_import_time_change_other_than_a_stub_has_no_candidate_and_says_why() -> None:
    registry = StateChange("module-attr", "app.registry.HANDLERS", "dict len=2", "dict len=2", by="tests/test_c.py")
    stated = diagnosis(polluters=("tests/test_c.py",), scope=Scope.FILE_IMPORT, leaks=(registry,))
    assert candidates(stated, {}) == []
    assert no_candidate_reason(stated).startswith("importing tests/test_c.py changes app.registry.HANDLERS at "
                                                  "module level")


def test_a_thread_or_socket_left_running_is_stopped_by_a_teardown_of_the_fixture_that_started_it() -> None:
    thread = StateChange("thread", "ws-broadcast-server", None, "daemon", by=POLLUTER)
    found = candidates(diagnosis(leaks=(thread,), cleaners=()), {"tests/test_b.py": ("tests/conftest.py",)})
    assert [c.edits for c in found] == [(FixtureTeardown("tests/test_b.py", "test_lock",
                                                         ("tests/test_b.py", "tests/conftest.py")),)]


def test_state_without_a_generic_undo_and_no_cleaner_leaves_only_the_reason() -> None:
    loop = StateChange("event-loop", "current", None, "set, closed", by=POLLUTER)
    stated = diagnosis(leaks=(loop,), cleaners=())
    assert candidates(stated, {}) == []
    assert "(event-loop)" in no_candidate_reason(stated)
    assert "C extension" in no_candidate_reason(diagnosis(leaks=(), cleaners=()))


def test_noise_and_the_attributes_of_a_replaced_object_are_left_out() -> None:
    client = StateChange("module-attr", "app.broker.client", "LocalBroker @1", "Mock calls=0 @2")
    inner = StateChange("module-attr", "app.broker.client.subscribers", "defaultdict len=0", None)
    handler = StateChange("logging", "root", "1 handler", "2 handlers")
    assert relevant_leaks([inner, client, handler]) == [client]


@pytest.mark.parametrize(("before", "after", "in_place"), [
    ("set len=0", "set len=1 keys=['lobby']", True),
    ("dict len=0", "dict len=1 (holding 2) keys=['alice']", True),
    ("module @1", "MagicMock calls=0 @2", False),
    ("False", "True", False),
    (None, "dict len=1", False),
])
def test_a_container_changed_in_place_is_told_from_a_name_bound_again(before: str | None, after: str,
                                                                     in_place: bool) -> None:
    assert mutated_in_place(StateChange("module-attr", "app.x", before, after)) is in_place


def test_names_in_node_ids_and_new_identifiers() -> None:
    assert split_nodeid("tests/a.py::TestX::test_y[1-2]") == ("tests/a.py", "TestX.test_y")
    assert identifier("restore", "rooms", "LOCKED") == "_restore_rooms_locked"
    assert identifier("undo", "test_x[1]") == "_undo_test_x_1"


# --- delta debugging ----------------------------------------------------------------------------


def asked_of(needed: set[int]) -> tuple[list[tuple[int, ...]], object]:
    asked: list[tuple[int, ...]] = []

    def works(subsets: Sequence[tuple[int, ...]]) -> list[bool]:
        asked.extend(subsets)
        return [needed <= set(subset) for subset in subsets]

    return asked, works


@pytest.mark.parametrize(("size", "needed"), [(1, {0}), (2, {1}), (6, {4}), (8, {1, 6}), (12, {0, 5, 11}),
                                              (5, {0, 1, 2, 3, 4})])
def test_minimal_subset_keeps_exactly_the_statements_needed(size: int, needed: set[int]) -> None:
    asked, works = asked_of(needed)
    assert minimal_subset(tuple(range(size)), works) == tuple(sorted(needed))  # type: ignore[arg-type]
    assert len(asked) == len(set(asked))  # no subset asked twice
    assert len(asked) <= max(1, size * size)


def test_one_needed_statement_among_eight_takes_about_log_n_questions() -> None:
    asked, works = asked_of({5})
    assert minimal_subset(tuple(range(8)), works) == (5,)  # type: ignore[arg-type]
    assert len(asked) <= 8


# --- the proof's plans and new failures -------------------------------------------------------------


def test_the_proof_runs_polluters_then_victims_the_victim_alone_the_polluters_files_and_the_failing_order() -> None:
    order = ("tests/test_a.py::test_one", POLLUTER, VICTIM)
    plans = proof_plans(diagnosis(failing_order=order, failing_collect=("tests",)))
    assert (plans.polluted.test_ids, plans.polluted.collect_args) == ((POLLUTER, VICTIM),
                                                                      ("tests/test_b.py", "tests/test_d.py"))
    assert (plans.alone.test_ids, plans.alone.context) == ((VICTIM,), records.Context.ALONE)
    assert plans.own.test_ids == (POLLUTER, "tests/test_b.py::test_other")
    assert plans.order is not None and (plans.order.test_ids, plans.order.collect_args) == (order, ("tests",))
    assert proof_plans(diagnosis()).order is None


def test_an_import_polluter_is_proven_by_collecting_its_file_and_running_its_own_tests() -> None:
    plans = proof_plans(diagnosis(polluters=("tests/test_b.py",), scope=Scope.FILE_IMPORT))
    assert (plans.polluted.test_ids, plans.polluted.collect_args) == ((VICTIM,),
                                                                      ("tests/test_b.py", "tests/test_d.py"))
    assert plans.own.test_ids == (POLLUTER, "tests/test_b.py::test_other")


def result(outcomes: dict[str, Outcome]) -> records.PlanResult:
    plan = records.Plan(label="p", context=records.Context.SUITE, collect_args=(), test_ids=tuple(outcomes))
    tests = tuple(records.TestResult(n, o) for n, o in outcomes.items())
    return records.PlanResult(plan=plan, results=tests, children=())


def test_a_new_failure_is_one_that_did_not_go_wrong_before() -> None:
    before = result({"a": Outcome.FAILED, "b": Outcome.PASSED, "c": Outcome.PASSED})
    after = result({"a": Outcome.FAILED, "b": Outcome.ERROR, "c": Outcome.NOT_RUN})
    assert new_failures(before, after) == ["b", "c"]
    assert new_failures(None, after) == ["a", "b", "c"]


def test_only_what_went_wrong_every_time_counts() -> None:
    first = result({"a": Outcome.FAILED, "b": Outcome.FAILED})
    again = result({"a": Outcome.PASSED, "b": Outcome.FAILED})
    assert wrong_every_time([first, again], lambda run: new_failures(None, run)) == ["b"]
    assert wrong_every_time([first], lambda run: new_failures(None, run)) == ["a", "b"]
