"""Every branch of the bisect strategy, against a suite kept in a dictionary (no process is started).

The fake runner stands where the executor does (wsdoctor.analysis.trials.PlanRunner): it says
which trials fail the victim and which state each test, or each file's import, leaves changed,
and it keeps every trial it was asked, so the cost of each answer is checked too.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from wsdoctor.analysis.bisect import Case, bisect
from wsdoctor.analysis.search import SearchExhausted
from wsdoctor.analysis.trials import Trials, default_run_budget, first_halving_question, trial_key, victim_failed
from wsdoctor.execution.trial_runner import load_journal
from wsdoctor.exits import UsageError
from wsdoctor.records import (
    ChildProcess,
    ChildStatus,
    CollectedTest,
    Collection,
    Confidence,
    Context,
    Outcome,
    Plan,
    PlanResult,
    Scope,
    StateChange,
    TestResult,
    Verdict,
)

VICTIM = "tests/test_z.py::test_victim"
FILES = {"tests/test_a.py": ["a1", "a2", "a3"], "tests/test_b.py": ["b1", "b2", "b3"],
         "tests/test_c.py": ["c1", "c2"], "tests/test_z.py": ["test_victim"]}
COLLECTION = Collection(rootdir="/p", inifile=None, tests=tuple(
    CollectedTest(nodeid=f"{path}::{name}", path=path) for path, names in FILES.items() for name in names))
IDS = [t.nodeid for t in COLLECTION.tests]
A1, A2, A3, B1, B2, B3, C1, C2 = IDS[:-1]
FLAG = "module-attr:app.FLAGS"
DIRTY = "dict len=1 {'beta': True}"
FAILURE = "AssertionError: assert app.FLAGS['beta'] is False"

Fails = Callable[[Plan], bool]


def change(key: str, after: str | None, before: str | None = "dict len=1 {'beta': False}") -> StateChange:
    kind, _, name = key.partition(":")
    return StateChange(kind=kind, name=name, before=before, after=after)


@dataclass
class FakeSuite:
    """A suite in a dictionary: which trials fail the victim, what each test or import leaves changed."""

    fails: Fails
    changes: Mapping[str, Sequence[StateChange]] = field(default_factory=dict)  # by test id or file
    budget: int | None = None  # trials before the budget runs out
    asked: list[Plan] = field(default_factory=list)

    def run(self, plans: Sequence[Plan]) -> list[PlanResult]:
        if self.budget is not None and len(self.asked) >= self.budget:
            raise SearchExhausted("the --budget ran out")
        self.asked += plans
        return [self._result(plan) for plan in plans]

    def _result(self, plan: Plan) -> PlanResult:
        failed = self.fails(plan)
        results = tuple(TestResult(
            nodeid=nodeid, outcome=Outcome.FAILED if nodeid == VICTIM and failed else Outcome.PASSED,
            message=FAILURE if nodeid == VICTIM and failed else "",
            state_changes=self._left_by(nodeid) if plan.state_probes else ()) for nodeid in plan.test_ids)
        imports = tuple(c for path in plan.collect_args for c in self._left_by(path)) if plan.state_probes else ()
        child = ChildProcess(status=ChildStatus.COMPLETED, exit_code=int(failed), seconds=0.0, artifacts="",
                             started=plan.test_ids)
        return PlanResult(plan=plan, results=results, children=(child,), import_changes=imports)

    def _left_by(self, author: str) -> tuple[StateChange, ...]:
        return tuple(StateChange(c.kind, c.name, c.before, c.after, by=author) for c in self.changes.get(author, ()))


def before_victim(plan: Plan) -> list[str]:
    return list(plan.test_ids[: plan.test_ids.index(VICTIM)])


def flag_left_dirty(changes: Mapping[str, Sequence[StateChange]]) -> Fails:
    """The victim fails when the flag is changed as it starts: the state tells the fake what fails."""
    def fails(plan: Plan) -> bool:
        value = None
        for author in [*plan.collect_args, *before_victim(plan)]:
            value = next((c.after for c in changes.get(author, ()) if c.key == FLAG), value)
        return value == DIRTY
    return fails


def after_all_of(*polluters: str) -> Fails:
    """The victim fails when every polluter ran before it (a file: when it was collected)."""
    def fails(plan: Plan) -> bool:
        return all(p in before_victim(plan) or p in plan.collect_args for p in polluters)
    return fails


def unless_after(*setters: str) -> Fails:
    """A brittle victim: it fails, unless a state-setter ran before it."""
    return lambda plan: not any(s in before_victim(plan) for s in setters)


def every_other(fails: Fails) -> Fails:
    """Fails as ``fails`` says, but only every other time it would: a victim that fails sometimes."""
    turns = itertools.count()
    return lambda plan: fails(plan) and next(turns) % 2 == 0


def suite_case(victim_first: bool = False, workers: int = 2, source: str = "") -> Case:
    collection = COLLECTION
    if victim_first:
        collection = Collection(rootdir="/p", inifile=None,
                                tests=(COLLECTION.tests[-1], *COLLECTION.tests[:-1]))
    ids = [t.nodeid for t in collection.tests]
    return Case(victim=VICTIM, collection=collection, order=tuple(ids[: ids.index(VICTIM)]),
                collect_args=("tests",), workers=workers, source=source)


def run_bisect(suite: FakeSuite, case: Case | None = None, repeat: int = 1,
               known: Mapping[str, bool] | None = None, said: list[str] | None = None,
               max_runs: int | None = None):  # type: ignore[no-untyped-def]
    case = case or suite_case()
    trials = Trials(suite, case.collection, VICTIM, repeat, known=known, max_runs=max_runs)
    result = bisect(case, trials, said.append if said is not None else None)
    assert result.trials == len(suite.asked)  # every trial asked is counted, no more
    return result


# --- confirming ---------------------------------------------------------------------------------


def test_a_victim_that_fails_alone_too_is_nobody_elses_fault() -> None:
    suite = FakeSuite(fails=lambda plan: True)
    said: list[str] = []
    result = run_bisect(suite, said=said)
    # The given order is all other tests already: only the reversed one is new.
    assert (result.verdict, result.polluters, result.trials) == (Verdict.FAILS_ALONE, (), 3)
    assert result.summary == (f"{VICTIM} fails alone too, and after every other test in either order: "
                              "no other test is to blame")
    assert result.steps == ("all other tests, reversed, before it: victim fails",)
    assert result.failure is not None and result.failure.message == FAILURE
    assert said[0].startswith(f"bisecting {VICTIM}: confirming that it fails in the given order (8 test(s)")


def test_a_victim_that_fails_after_the_only_other_test_and_alone_has_no_other_order_to_try() -> None:
    # Two tests: the given order, all other tests and their reverse are the same one test.
    two = Collection(rootdir="/p", inifile=None, tests=(COLLECTION.tests[0], COLLECTION.tests[-1]))
    case = Case(victim=VICTIM, collection=two, order=(A1,), collect_args=("tests",))
    result = run_bisect(FakeSuite(fails=lambda plan: True), case)
    assert (result.verdict, result.summary) == (Verdict.FAILS_ALONE,
                                                f"{VICTIM} fails alone too: no other test is to blame")
    assert (result.trials, result.steps) == (2, ())  # the confirming trials only


def test_a_victim_that_fails_alone_only_sometimes_is_flaky() -> None:
    alone = every_other(lambda plan: len(plan.test_ids) == 1)
    result = run_bisect(FakeSuite(fails=alone), repeat=2)
    assert (result.verdict, result.summary) == (Verdict.FLAKY, "alone it failed 1 of 2 runs")


def test_the_confirming_trials_run_the_given_order_with_probes_and_the_victim_alone() -> None:
    suite = FakeSuite(fails=lambda plan: True)
    run_bisect(suite)
    order, alone = suite.asked[:2]
    assert (order.test_ids, order.collect_args, order.state_probes) == ((*IDS[:-1], VICTIM), ("tests",), True)
    assert (alone.test_ids, alone.collect_args) == ((VICTIM,), ("tests/test_z.py",))


@dataclass
class SharedMachine(FakeSuite):
    """Trials of one batch run side by side (their children overlap in time); the victim fails after
    A1 only when another trial runs beside it: A1 and the other trial's tests share a fixed port."""

    clock: float = 0.0
    batches: list[int] = field(default_factory=list)

    def run(self, plans: Sequence[Plan]) -> list[PlanResult]:
        self.asked += plans
        self.batches.append(len(plans))
        self.clock += 10.0
        beside = len(plans) > 1
        results = []
        for plan in plans:
            result = self._result(dataclasses.replace(plan))
            failed = beside and A1 in before_victim(plan)
            outcome = TestResult(VICTIM, Outcome.FAILED if failed else Outcome.PASSED, message="Errno 98" * failed)
            child = dataclasses.replace(result.children[0], artifacts=f"/r/{len(self.asked)}-{plan.label}-{id(plan)}",
                                        began=self.clock, ended=self.clock + 5.0)
            results.append(dataclasses.replace(result, results=(*result.results[:-1], outcome), children=(child,)))
        return results


def test_a_polluter_seen_only_beside_other_trials_is_not_blamed() -> None:
    """On main the proof was the trial that failed beside another (python-socketio's two admin files on
    port 8900): the test blamed was innocent, and the printed commands passed in plain pytest."""
    suite = SharedMachine(fails=lambda plan: False)
    result = run_bisect(suite)
    assert (result.verdict, result.polluters) == (Verdict.FLAKY, ())
    assert "only while other trials ran beside it" in result.summary and "no test is blamed" in result.summary
    assert A1 in suite.asked[-1].test_ids and suite.batches[-1] == 1  # the proof, alone in the machine


def test_a_polluter_seen_failing_alone_in_the_machine_is_proven_as_before() -> None:
    suite = FakeSuite(fails=after_all_of(A1))
    result = run_bisect(suite)
    assert (result.verdict, result.polluters) == (Verdict.ORDER_DEPENDENT, (A1,))


# --- brittle: a state-setter ---------------------------------------------------------------------


def test_a_brittle_victim_gets_its_state_setter_and_what_it_sets() -> None:
    changes = {B2: [change(FLAG, DIRTY)]}
    result = run_bisect(FakeSuite(fails=unless_after(B2), changes=changes))
    assert (result.verdict, result.state_setters, result.polluters) == (Verdict.BRITTLE, (B2,), ())
    assert [(c.key, c.after, c.by) for c in result.leaked_state] == [(FLAG, DIRTY, B2)]
    assert result.reproduce == (f"python -m pytest -p no:randomly {VICTIM}  # fails",
                                f"python -m pytest -p no:randomly {B2} {VICTIM}  # passes")
    assert (result.confidence, result.confidence_detail) == (
        Confidence.HIGH, "passed in 1 of 1 run(s) after the state-setters")
    assert result.summary == f"{VICTIM} passes only after {B2}"


def test_a_brittle_victim_whose_setter_is_not_found_in_the_budget_fails_alone() -> None:
    result = run_bisect(FakeSuite(fails=unless_after(B2), budget=2))
    assert result.verdict is Verdict.FAILS_ALONE
    assert result.summary == "fails alone; no state-setter found (the --budget ran out)"


def test_a_brittle_victim_whose_setter_runs_after_it_fails_in_the_suite_order_too_and_gets_its_setter() -> None:
    # C1 sets the state the victim needs, but runs after the victim in the given order.
    case = suite_case(victim_first=True)
    changes = {C1: [change(FLAG, DIRTY)]}
    said: list[str] = []
    result = run_bisect(FakeSuite(fails=unless_after(C1), changes=changes), case, said=said)
    assert (result.verdict, result.state_setters) == (Verdict.BRITTLE, (C1,))
    assert result.steps[0] == "all other tests before it: victim passes"
    assert [(c.key, c.by) for c in result.leaked_state] == [(FLAG, C1)]
    assert any("trying the orders that could put a state-setter before it" in line for line in said)


def test_a_victim_first_in_its_order_that_fails_alone_fails_alone() -> None:
    # Alone it fails; in the suite order it passes, but nothing runs before it there.
    result = run_bisect(FakeSuite(fails=lambda plan: plan.collect_args != ("tests",)),
                        suite_case(victim_first=True))
    assert (result.verdict, result.summary) == (Verdict.FAILS_ALONE, f"{VICTIM} fails alone and in the order")


# --- order-dependent: polluters -------------------------------------------------------------------


def test_a_suspect_the_evidence_names_is_tried_first_and_costs_one_trial() -> None:
    changes = {B1: [change(FLAG, DIRTY)], A2: [change("environ:HOME", "/elsewhere", "/root")]}
    result = run_bisect(FakeSuite(fails=flag_left_dirty(changes), changes=changes))
    assert (result.verdict, result.polluters, result.scope) == (Verdict.ORDER_DEPENDENT, (B1,), Scope.TEST)
    assert result.steps[0] == f"suspect {B1}, alone before the victim, is enough"
    assert result.trials == 3  # the order, the victim alone, the suspect (also the proof)
    assert [(c.key, c.after, c.by) for c in result.leaked_state] == [(FLAG, DIRTY, B1)]
    assert (result.confidence, result.confidence_detail) == (
        Confidence.HIGH, "failed in 1 of 1 run(s) after the polluters; the failing order failed 1 of 1 run(s)")
    assert result.reproduce == (f"python -m pytest -p no:randomly {B1} {VICTIM}  # fails",
                                f"python -m pytest -p no:randomly {VICTIM}  # passes")
    assert result.failure is not None and result.failure.outcome is Outcome.FAILED


def test_without_evidence_halves_find_one_polluter_in_about_log2_n_trials() -> None:
    suite = FakeSuite(fails=after_all_of(A3))
    result = run_bisect(suite)
    assert (result.polluters, result.scope) == ((A3,), Scope.TEST)
    assert "halves: tests/test_a.py::a3 is enough alone, found among 8 test(s) in 3 run(s)" in result.steps
    assert result.trials == 2 + 3  # the order and the victim alone, then [a1..b1], [a1, a2], [a3]
    assert [len(plan.test_ids) - 1 for plan in suite.asked[2:]] == [4, 2, 1]
    assert result.leaked_state == ()  # the probes saw nothing: nothing is named


def test_the_question_asked_ahead_is_the_first_a_search_without_evidence_asks() -> None:
    # bisect asks it while the suite order runs (wsdoctor.commands.bisect_setup): a ready trial is
    # used only when its key is the key of the question the search asks.
    suite = FakeSuite(fails=after_all_of(A3))
    case = suite_case()
    run_bisect(suite, case)
    asked_ahead = first_halving_question(case.collection, VICTIM, case.order)
    assert trial_key(suite.asked[2]) == trial_key(asked_ahead)


def test_without_evidence_the_first_test_of_a_file_is_checked_as_that_files_import() -> None:
    # Collecting test_b.py is what breaks the victim: every set with one of its tests fails.
    suite = FakeSuite(fails=lambda plan: "tests/test_b.py" in plan.collect_args)
    result = run_bisect(suite)
    assert (result.polluters, result.scope) == (("tests/test_b.py",), Scope.FILE_IMPORT)
    assert "importing tests/test_b.py alone, without running its tests, fails the victim" in result.steps


def test_without_evidence_a_first_test_of_its_file_that_pollutes_itself_stays_the_answer() -> None:
    result = run_bisect(FakeSuite(fails=after_all_of(B1)))
    assert (result.polluters, result.scope) == ((B1,), Scope.TEST)
    assert "importing tests/test_b.py alone, without running its tests, does not fail the victim" in result.steps


def test_a_file_whose_import_pollutes_is_found_as_an_import() -> None:
    changes = {"tests/test_b.py": [change("sys.modules:websockets", "MagicMock @1", "module @2")]}
    suite = FakeSuite(fails=after_all_of("tests/test_b.py"), changes=changes)
    result = run_bisect(suite, suite_case(source="import websockets"))
    assert (result.polluters, result.scope) == (("tests/test_b.py",), Scope.FILE_IMPORT)
    assert result.summary == f"{VICTIM} fails after importing tests/test_b.py"
    # Node ids for both: pytest imports a node id's file before a bare path's, whatever their order.
    assert result.reproduce[0] == (f"python -m pytest -p no:randomly {B1} "
                                   f"{VICTIM} --deselect {B1}  # fails: importing is enough")
    assert [(c.key, c.by) for c in result.leaked_state] == [("sys.modules:websockets", "tests/test_b.py")]
    proof = suite.asked[-1]
    assert (proof.test_ids, proof.collect_args) == ((VICTIM,), ("tests/test_b.py", "tests/test_z.py"))


def test_a_victim_first_in_its_order_broken_by_a_files_import_is_traced_to_it_without_evidence() -> None:
    # The given order collects every file and runs the victim first; the probes name nothing, so
    # collecting the other files is the one difference from its run alone: their imports are searched.
    suite = FakeSuite(fails=after_all_of("tests/test_c.py"))
    case = dataclasses.replace(suite_case(victim_first=True), collect_args=tuple(FILES))
    result = run_bisect(suite, case)
    assert (result.verdict, result.polluters, result.scope) == (
        Verdict.ORDER_DEPENDENT, ("tests/test_c.py",), Scope.FILE_IMPORT)
    assert result.steps[0] == "halves: tests/test_c.py is enough alone, found among 3 test(s) in 3 run(s)"
    assert all(plan.test_ids == (VICTIM,) for plan in suite.asked)  # no test ran before the victim


def test_a_victim_first_in_its_order_whose_failure_does_not_come_back_blames_no_file() -> None:
    trials = itertools.count()
    suite = FakeSuite(fails=lambda plan: next(trials) == 0)  # the given order, then never again
    case = dataclasses.replace(suite_case(victim_first=True), collect_args=tuple(FILES))
    result = run_bisect(suite, case)
    assert (result.verdict, result.polluters) == (Verdict.NOT_REPRODUCED, ())
    assert result.summary == "the search stopped: the victim passes after no test at all"
    assert result.steps[0].startswith("collecting the other files without running their tests does not fail the "
                                      "victim (the victim passes after all 3 candidates)")
    assert result.trials == 3  # the confirmation, then all three files collected


def test_the_budget_running_out_in_the_import_search_ends_the_bisect_and_blames_no_test() -> None:
    # The probes point at test_b.py's import; test_c.py's is what breaks the victim. The budget ends
    # after the suspect and all files were tried, which failed the victim: the imports were not
    # cleared, so the search does not go on as if the polluter were a test.
    changes = {"tests/test_b.py": [change("sys.modules:websockets", "MagicMock @1", "module @2")]}
    suite = FakeSuite(fails=lambda plan: "tests/test_c.py" in plan.collect_args, changes=changes)
    case = dataclasses.replace(suite_case(source="import websockets"), collect_args=tuple(FILES))
    result = run_bisect(suite, case, max_runs=4)
    assert (result.verdict, result.summary) == (Verdict.NOT_REPRODUCED,
                                                "the search stopped: the budget of 4 child runs is spent")
    assert result.steps == ("no single suspect of 1 is enough", "stopped: the budget of 4 child runs is spent")
    assert [plan.collect_args for plan in suite.asked[2:]] == [
        ("tests/test_b.py", "tests/test_z.py"), (*FILES,)]  # the suspect, then every file: it fails


def test_a_polluter_that_leaves_a_file_says_to_delete_it_before_the_passing_command() -> None:
    changes = {B2: [change("file:feature_flags.json", "22 bytes", None)]}  # B2 writes the file
    suite = FakeSuite(fails=after_all_of(B2), changes=changes)
    result = run_bisect(suite, suite_case(source="json.loads(Path('feature_flags.json').read_text())"))
    assert (result.polluters, [(c.key, c.by) for c in result.leaked_state]) == (
        (B2,), [("file:feature_flags.json", B2)])
    assert result.reproduce == (
        f"python -m pytest -p no:randomly {B2} {VICTIM}  # fails; it leaves feature_flags.json behind: "
        "delete before the next command", f"python -m pytest -p no:randomly {VICTIM}  # passes")


def test_a_polluter_that_rewrites_or_deletes_a_file_says_to_restore_it_not_to_delete_it() -> None:
    changes = {B2: [change("file:settings.ini", "31 bytes, written 10:02:07.114", "30 bytes, written 09:12:55.020"),
                    change("file:fixtures/users.json", None, "812 bytes, written 09:12:55.020"),
                    change("file:feature_flags.json", "22 bytes", None)]}
    suite = FakeSuite(fails=after_all_of(B2), changes=changes)
    result = run_bisect(suite, suite_case(source="json.loads(Path('feature_flags.json').read_text())"))
    assert result.reproduce[0] == (
        f"python -m pytest -p no:randomly {B2} {VICTIM}  # fails; it leaves feature_flags.json behind: delete "
        "before the next command; it changes fixtures/users.json, settings.ini: restore before the next "
        "command (e.g. git checkout or git stash)")


def test_polluters_needed_together_are_a_conjunction() -> None:
    result = run_bisect(FakeSuite(fails=after_all_of(A2, C1)))
    assert (result.polluters, result.scope) == ((A2, C1), Scope.TESTS)
    assert result.summary == f"{VICTIM} fails after {A2}, {C1}"


def test_a_test_that_puts_the_state_back_is_named_a_cleaner() -> None:
    changes = {A1: [change(FLAG, DIRTY)], A3: [change(FLAG, "dict len=1 {'beta': False}", DIRTY)],
               B2: [change(FLAG, DIRTY)]}
    result = run_bisect(FakeSuite(fails=flag_left_dirty(changes), changes=changes))
    assert (result.polluters, result.cleaners) == ((B2,), (A3,))


def test_a_victim_failing_only_sometimes_after_its_polluter_has_medium_confidence() -> None:
    suite = FakeSuite(fails=every_other(after_all_of(B3)))
    result = run_bisect(suite, repeat=2)
    assert (result.verdict, result.polluters, result.confidence) == (
        Verdict.ORDER_DEPENDENT, (B3,), Confidence.MEDIUM)
    assert result.confidence_detail.startswith("failed in 1 of 2 run(s) after the polluters")


def test_a_search_stopped_by_the_budget_gives_the_fewest_tests_seen_failing_the_victim() -> None:
    result = run_bisect(FakeSuite(fails=after_all_of(A3), budget=3))
    assert (result.verdict, result.polluters, result.scope) == (Verdict.ORDER_DEPENDENT, (A1, A2, A3, B1), Scope.TESTS)
    assert result.summary == (f"{VICTIM} fails after 4 test(s), not narrowed down further: the search stopped: "
                              "the --budget ran out")
    assert (result.confidence, result.steps[-2:]) == (Confidence.LOW, (
        "stopped: the --budget ran out", "best proven answer: the victim failed after these 4 test(s)"))
    assert result.reproduce[0] == f"python -m pytest -p no:randomly {A1} {A2} {A3} {B1} {VICTIM}  # fails"


def test_a_search_stopped_before_anything_was_narrowed_down_is_not_reproduced() -> None:
    result = run_bisect(FakeSuite(fails=after_all_of(A3), budget=2))
    assert (result.verdict, result.summary) == (Verdict.NOT_REPRODUCED, "the search stopped: the --budget ran out")


def test_the_budget_of_trials_bounds_the_search() -> None:
    suite = FakeSuite(fails=after_all_of(A3))
    result = run_bisect(suite, max_runs=3)
    assert len(suite.asked) == 3
    assert result.steps[-2] == "stopped: the budget of 3 child runs is spent"


def test_a_search_that_crashes_keeps_what_it_learnt() -> None:
    suite = FakeSuite(fails=after_all_of(A3))
    answered = suite.run

    def breaks_on_the_fourth_batch(plans):  # type: ignore[no-untyped-def]
        if len(suite.asked) == 4:
            raise ValueError("'tests/test_x.py' is not in list")
        return answered(plans)

    suite.run = breaks_on_the_fourth_batch  # type: ignore[method-assign]
    trials = Trials(suite, COLLECTION, VICTIM)
    result = bisect(suite_case(), trials)
    assert (result.verdict, result.polluters) == (Verdict.ORDER_DEPENDENT, (A1, A2, A3, B1))
    assert result.steps[-2].startswith("internal error in the search: ValueError: 'tests/test_x.py' is not in list "
                                       "(at ")
    assert result.summary.endswith("the search stopped on an internal error of wsdoctor (please report it)")


# --- an order that fails ---------------------------------------------------------------------------


def cleaned_after_polluting(cleaners: Sequence[str]) -> dict[str, list[StateChange]]:
    clean = "dict len=1 {'beta': False}"
    return {B1: [change(FLAG, DIRTY)], **{c: [change(FLAG, clean, DIRTY)] for c in cleaners}}


def test_a_victim_passing_in_its_order_is_tried_after_all_others_reversed() -> None:
    changes = cleaned_after_polluting([C1])  # the cleaner runs after the polluter in the suite
    said: list[str] = []
    result = run_bisect(FakeSuite(fails=flag_left_dirty(changes), changes=changes), said=said)
    assert result.steps[:2] == ("all other tests before it: victim passes",
                                "all other tests, reversed, before it: victim fails")
    assert (result.verdict, result.polluters) == (Verdict.ORDER_DEPENDENT, (B1,))
    assert result.confidence_detail.endswith("found by running all other tests, reversed, before it")
    assert f"{VICTIM} passes in the given order: looking for an order that fails it" in said


def test_groups_part_a_polluter_from_the_cleaners_around_it() -> None:
    changes = cleaned_after_polluting([A1, C1])  # cleaners on both sides: neither whole order fails
    result = run_bisect(FakeSuite(fails=flag_left_dirty(changes), changes=changes))
    assert any(step.endswith("fail the victim") and "group(s) of up to" in step for step in result.steps)
    assert (result.verdict, result.polluters) == (Verdict.ORDER_DEPENDENT, (B1,))
    assert result.confidence_detail.endswith("found in a group of tests run before it")


def test_the_same_bisect_twice_asks_the_same_questions_in_the_same_order() -> None:
    # The shape that once asked 489 questions and was still searching after 7 minutes: the victim
    # passes in the suite order and when moved last, because a cleaner follows the polluter.
    changes = cleaned_after_polluting([A1, C1])
    runs = []
    for _ in range(2):
        suite = FakeSuite(fails=flag_left_dirty(changes), changes=changes)
        result = run_bisect(suite, max_runs=30)
        runs.append(([trial_key(plan) for plan in suite.asked], result.steps, result.polluters))
    assert runs[0] == runs[1]
    assert runs[0][2] == (B1,) and len(runs[0][0]) <= 30


def test_nothing_fails_the_victim_it_is_not_reproduced_with_what_was_tried() -> None:
    suite = FakeSuite(fails=lambda plan: False)
    result = run_bisect(suite)
    assert (result.verdict, result.summary) == (
        Verdict.NOT_REPRODUCED, f"no order tried within the budget fails {VICTIM}")
    assert result.steps[:2] == ("all other tests before it: victim passes",
                                "all other tests, reversed, before it: victim passes")
    assert result.steps[-1] == "8 group(s) of up to 1 test(s): 0 fail the victim"
    assert result.failure is None


def test_the_budget_running_out_while_looking_for_an_order_is_said() -> None:
    result = run_bisect(FakeSuite(fails=lambda plan: False, budget=3))
    assert result.verdict is Verdict.NOT_REPRODUCED
    assert result.steps[-1] == "stopped: the --budget ran out"


def test_looking_for_a_failing_order_takes_at_most_half_the_budget_of_trials() -> None:
    suite = FakeSuite(fails=lambda plan: False)
    result = run_bisect(suite, max_runs=20)
    assert (result.verdict, len(suite.asked)) == (Verdict.NOT_REPRODUCED, 2 + 2 + 4)  # confirm, orders, 1 round
    assert result.steps[-1] == "no more rounds of groups within the budget (4 trial(s) spent on them)"


def test_a_budget_with_room_for_one_whole_order_does_not_try_the_reversed_one() -> None:
    # The reversed order would fail the victim (C1 cleans up after B1, before it in the suite), but
    # of 4 trials the confirmation takes 2 and the order search half of the rest: one trial.
    changes = cleaned_after_polluting([C1])
    suite = FakeSuite(fails=flag_left_dirty(changes), changes=changes)
    result = run_bisect(suite, max_runs=4)
    assert (result.verdict, result.trials) == (Verdict.NOT_REPRODUCED, 3)
    assert result.steps == ("all other tests before it: victim passes",
                            "no more rounds of groups within the budget (0 trial(s) spent on them)")
    assert [before_victim(plan) for plan in suite.asked[2:]] == [IDS[:-1]]


def test_a_suspect_file_in_the_group_search_stands_for_its_tests() -> None:
    # The probes blame test_c.py's import for a change the victim's source names; the victim
    # passes in every whole order (B1 pollutes, A1 and C1 clean up) and fails in a group.
    changes = {**cleaned_after_polluting([A1, C1]),
               "tests/test_c.py": [change("module-attr:app.REGISTRY", "dict len=1", "dict len=0")]}
    suite = FakeSuite(fails=flag_left_dirty(changes), changes=changes)
    case = dataclasses.replace(suite_case(source="app.REGISTRY app.FLAGS"), collect_args=tuple(FILES))
    result = run_bisect(suite, case)
    assert (result.verdict, result.polluters) == (Verdict.ORDER_DEPENDENT, (B1,))
    first_groups = [plan.test_ids for plan in suite.asked[4:8]]  # after the confirmation and the whole orders
    assert C1 in first_groups[0] and C2 in first_groups[1]  # the file's tests first, spread over groups


def b2_cleaned_by_b3_or_a1_with_a3(plan: Plan) -> bool:
    """A1 and A3 break the victim together; B2 breaks it alone, but B3 cleans up right after it."""
    ran = before_victim(plan)
    alone = B2 in ran and (B3 not in ran or ran.index(B3) < ran.index(B2))
    return alone or (A1 in ran and A3 in ran)


def test_one_test_that_suffices_is_preferred_to_a_conjunction_the_order_showed() -> None:
    # In the given order the conjunction is all the search can see.
    said: list[str] = []
    result = run_bisect(FakeSuite(fails=b2_cleaned_by_b3_or_a1_with_a3), said=said)
    assert (result.verdict, result.polluters, result.scope) == (Verdict.ORDER_DEPENDENT, (B2,), Scope.TEST)
    assert f"smaller explanation: {B2}; also proven, larger: {A1}, {A3} together" in result.steps
    assert "2 tests are needed together: checking whether one test suffices" in said


def test_a_conjunction_with_nothing_smaller_stays_the_answer() -> None:
    result = run_bisect(FakeSuite(fails=after_all_of(A2, C1)))
    assert (result.polluters, result.scope) == ((A2, C1), Scope.TESTS)
    assert result.steps[-2] == f"no smaller explanation found: {A2}, {C1} together"


def test_another_conjunction_as_large_found_in_a_group_does_not_replace_the_first() -> None:
    # A1 with B3 breaks the victim, and so do A2 with C1: the search finds {A1, B3}; a group holding
    # A2 and C1 fails too, and its search finds two tests again: nothing smaller.
    suite = FakeSuite(fails=lambda plan: after_all_of(A1, B3)(plan) or after_all_of(A2, C1)(plan))
    result = run_bisect(suite)
    assert (result.polluters, result.scope) == ((A1, B3), Scope.TESTS)
    checked = result.steps[result.steps.index("2 test(s) together are enough") + 1:]
    assert checked == (
        "4 group(s) of up to 2 test(s): 1 fail the victim",
        "halves: no single test is enough (2 run(s)); the victim needs several of the 2 test(s) last seen "
        "failing it: searching prefixes",
        f"needed: {C1} (shortest failing prefix of 2)", f"needed: {A2} (shortest failing prefix of 1)",
        "2 test(s) together are enough", f"no smaller explanation found: {A1}, {B3} together",
        f"proof: the victim failed in 1 of 1 run(s) after {A1}, {B3}")


def test_the_budget_running_out_while_checking_for_a_smaller_explanation_keeps_the_conjunction() -> None:
    unbounded = FakeSuite(fails=after_all_of(A2, C1))
    run_bisect(unbounded)
    proven_at = [before_victim(plan) for plan in unbounded.asked].index([A2, C1]) + 1
    suite = FakeSuite(fails=after_all_of(A2, C1))
    result = run_bisect(suite, max_runs=proven_at)  # spent on the trial that proves the conjunction
    assert (result.verdict, result.polluters, result.confidence) == (
        Verdict.ORDER_DEPENDENT, (A2, C1), Confidence.HIGH)
    assert result.steps[-2:] == (
        f"checking for a smaller explanation stopped: the budget of {proven_at} child runs is spent",
        f"proof: the victim failed in 1 of 1 run(s) after {A2}, {C1}")
    assert [A2] not in [before_victim(plan) for plan in suite.asked]  # not tried alone: no trial left
    assert result.trials == proven_at


def test_checking_for_a_smaller_explanation_takes_two_rounds_of_groups_at_most() -> None:
    # One worker: 2 groups of the 6 tests outside the conjunction, then 4; the third round (6) is not run.
    result = run_bisect(FakeSuite(fails=after_all_of(A2, C1)), suite_case(workers=1))
    assert (result.polluters, result.scope) == ((A2, C1), Scope.TESTS)
    assert [step for step in result.steps if "group(s)" in step] == [
        "2 group(s) of up to 3 test(s): 0 fail the victim", "4 group(s) of up to 2 test(s): 0 fail the victim"]
    assert result.steps[-2] == f"no smaller explanation found: {A2}, {C1} together"


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(("fails", "changes", "polluters"), [
    (flag_left_dirty(cleaned_after_polluting([A1, C1])), cleaned_after_polluting([A1, C1]), (B1,)),
    (after_all_of(A2, C1), {}, (A2, C1)),
    (b2_cleaned_by_b3_or_a1_with_a3, {}, (B2,)),
], ids=["a polluter between cleaners", "a conjunction", "a polluter hidden behind a conjunction"])
def test_the_default_budget_of_trials_is_enough_for_the_hardest_shapes_the_strategy_knows(
        fails: Fails, changes: Mapping[str, Sequence[StateChange]], polluters: tuple[str, ...],
        workers: int) -> None:
    budget = default_run_budget(len(COLLECTION.tests), workers)
    result = run_bisect(FakeSuite(fails=fails, changes=changes), suite_case(workers=workers), max_runs=budget)
    assert (result.verdict, result.polluters, result.confidence) == (
        Verdict.ORDER_DEPENDENT, polluters, Confidence.HIGH)
    assert result.trials <= budget and not any(step.startswith("stopped:") for step in result.steps)


# --- resuming ------------------------------------------------------------------------------------------


def test_a_resumed_bisect_replays_its_answers_instead_of_asking_again() -> None:
    first = FakeSuite(fails=after_all_of(A2, C1))
    case = suite_case()
    trials = Trials(first, case.collection, VICTIM)
    answer = bisect(case, trials)
    again = FakeSuite(fails=after_all_of(A2, C1))
    resumed = run_bisect(again, case, known=trials.answers)
    assert resumed.polluters == answer.polluters == (A2, C1)
    assert len(again.asked) < len(first.asked)


def test_the_journal_replays_a_failure_seen_once_and_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    key = trial_key(Plan(label="x", context=Context.SUITE, collect_args=("a.py",), test_ids=(VICTIM,)))
    journal = tmp_path / "journal.jsonl"
    journal.write_text("".join(json.dumps({"key": key, "failed": failed}) + "\n" for failed in (False, True, False)))
    assert load_journal(journal) == {key: True}
    assert load_journal(tmp_path / "none.jsonl") == {}
    journal.write_text(journal.read_text() + "junk\n")
    with pytest.raises(UsageError, match=r"journal.jsonl:4 is not a journal entry"):
        load_journal(journal)


@pytest.mark.parametrize(("outcome", "failed"), [
    (Outcome.FAILED, True), (Outcome.ERROR, True), (Outcome.CRASH, True), (Outcome.HANG, False),
    (Outcome.PASSED, False), (Outcome.NOT_RUN, False)])
def test_what_counts_as_the_victim_failing(outcome: Outcome, failed: bool) -> None:
    plan = Plan(label="x", context=Context.SUITE, collect_args=(), test_ids=(VICTIM,))
    result = PlanResult(plan=plan, results=(TestResult(nodeid=VICTIM, outcome=outcome),), children=())
    assert victim_failed(result, VICTIM) is failed
    assert victim_failed(PlanResult(plan=plan, results=(), children=()), VICTIM) is False


# --- the time budget ------------------------------------------------------------------------------------


@dataclass
class TimedExecutor:
    """Stands where the executor does: each child takes 1 s plus 0.1 s a test, on a clock we move."""

    now: list[float]

    def run_plans(self, plans: Sequence[Plan]) -> list[PlanResult]:
        seconds = [1.0 + 0.1 * len(plan.test_ids) for plan in plans]
        self.now[0] += max(seconds)  # side by side
        return [PlanResult(plan=plan, results=(), children=(ChildProcess(
            status=ChildStatus.COMPLETED, exit_code=0, seconds=s, artifacts="", started=()),))
            for plan, s in zip(plans, seconds, strict=True)]


def test_the_time_budget_comes_from_the_first_run_and_a_batch_that_would_overrun_it_is_not_started(
        tmp_path: Path) -> None:
    from wsdoctor.analysis.search import BudgetSpent
    from wsdoctor.execution.trial_runner import Budget, TrialRunner

    now = [0.0]
    said: list[str] = []
    budget = Budget(runs=4, tests=7)  # a run of the whole suite of 7: 1.7 s; 3 + 4 of them budgeted
    runner = TrialRunner(TimedExecutor(now), VICTIM, tmp_path / "journal.jsonl", budget, workers=2,  # type: ignore[arg-type]
                         say=said.append, clock=lambda: now[0])
    trials = Trials(runner, COLLECTION, VICTIM)
    order = tuple(IDS[:-1]) * 50  # a first run of 401 tests: 41.1 s, more than the whole suite
    trials.run([trials.order_plan(order), trials.alone_plan()])
    assert runner.seconds == pytest.approx(41.1 * (3 + 4))  # the whole suite's time, log2 N + 4 times
    assert said[0] == ("budget: 4 child runs and 288 s (a run of the whole suite should take 41.1 s, from the "
                       "first trials; --budget changes it)")
    assert said[1] == "  2 child run(s) of at most 4; 41 s of at most 288"
    for _ in range(5):
        trials.run([trials.order_plan(order)])  # 41.1 s each: 246.6 s in all
    with pytest.raises(BudgetSpent, match=r"the time budget of 288 s would run out during the next 1 trial\(s\)"):
        trials.run([trials.order_plan(order)])  # another 41.2 s would end past 287.7 s
    trials.run([trials.order_plan(order[:8])])  # 2 s: fits
    assert trials.count == 8


# --- victims that share a cause ---------------------------------------------------------------------------


def test_one_run_checks_a_cause_against_the_other_victims_and_links_those_it_explains() -> None:
    from wsdoctor.analysis.victims import can_explain_others, explained, shared_cause_plan

    result = run_bisect(FakeSuite(fails=after_all_of(B1)))
    assert can_explain_others(result)
    plan = shared_cause_plan(result, [C2, A2, C1], COLLECTION)
    assert (plan.test_ids, plan.collect_args) == ((B1, A2, C1, C2), ("tests/test_b.py", "tests/test_a.py",
                                                                    "tests/test_c.py"))
    outcomes = {A2: Outcome.FAILED, C1: Outcome.PASSED, C2: Outcome.FAILED}
    run = PlanResult(plan=plan, results=tuple(TestResult(nodeid=t, outcome=outcomes.get(t, Outcome.PASSED))
                                              for t in plan.test_ids), children=())
    updated, shared = explained(result, run, [C2, A2, C1], COLLECTION, suite_case().style)
    assert (updated.explains, updated.trials) == ((C2, A2), result.trials + 1)
    assert updated.steps[-1] == ("checked against 3 other order-dependent test(s) in one run: "
                                 "2 fail after the same polluters too")
    assert [(r.victim, r.polluters, r.explained_by, r.verdict) for r in shared] == [
        (C2, (B1,), VICTIM, Verdict.ORDER_DEPENDENT), (A2, (B1,), VICTIM, Verdict.ORDER_DEPENDENT)]
    assert shared[0].reproduce == (f"python -m pytest -p no:randomly {B1} {C2}  # fails",
                                   f"python -m pytest -p no:randomly {C2}  # passes")
    assert not can_explain_others(shared[0])  # explained, not bisected


def test_a_file_import_cause_is_checked_by_collecting_its_file_before_the_victims() -> None:
    from wsdoctor.analysis.victims import shared_cause_plan

    changes = {"tests/test_b.py": [change("sys.modules:websockets", "MagicMock @1", "module @2")]}
    result = run_bisect(FakeSuite(fails=after_all_of("tests/test_b.py"), changes=changes),
                        suite_case(source="import websockets"))
    plan = shared_cause_plan(result, [C1, A1], COLLECTION)
    assert (plan.test_ids, plan.collect_args) == ((A1, C1), ("tests/test_a.py", "tests/test_b.py", "tests/test_c.py"))


def test_a_member_of_a_conjunction_that_is_enough_alone_is_the_answer() -> None:
    # A2 breaks the victim alone, but A3 cleans up right after it; B1 and C2 break it together.
    # The halves find no single test; the shortest failing prefix ends at C2, and with C2 kept it
    # ends at A2: the prefix search answers {A2, C2} and never runs A2 alone (as on a real suite).
    def fails(plan: Plan) -> bool:
        ran = before_victim(plan)
        alone = A2 in ran and (A3 not in ran or ran.index(A3) < ran.index(A2))
        return alone or (B1 in ran and C2 in ran)

    result = run_bisect(FakeSuite(fails=fails))
    assert (result.polluters, result.scope) == ((A2,), Scope.TEST)
    assert f"smaller explanation: {A2} alone is enough; also proven, larger: {A2}, {C2} together" in result.steps


def test_a_resumed_trial_runner_replays_journaled_trials_and_runs_only_the_rest(tmp_path: Path) -> None:
    from wsdoctor.execution.trial_runner import Budget, TrialRunner, load_journal
    from wsdoctor.records import ChildProcess, ChildStatus, Context, Outcome, Plan, PlanResult, TestResult

    class CountingExecutor:
        """Runs nothing: the victim fails after test_a, passes otherwise; counts what it was asked."""

        def __init__(self) -> None:
            self.asked: list[str] = []

        def run_plans(self, plans: list[Plan]) -> list[PlanResult]:
            self.asked += [plan.label for plan in plans]
            return [PlanResult(plan=plan, children=(ChildProcess(ChildStatus.COMPLETED, 0, 0.1, "", ()),), results=(
                TestResult("v.py::test_v", Outcome.FAILED if "a.py::test_a" in plan.test_ids else Outcome.PASSED),))
                for plan in plans]

    plans = [Plan(label=label, context=Context.SUITE, collect_args=(), test_ids=ids) for label, ids in (
        ("order", ("a.py::test_a", "v.py::test_v")), ("alone", ("v.py::test_v",)))]
    journal = tmp_path / "journal.jsonl"
    first = TrialRunner(CountingExecutor(), "v.py::test_v", journal, Budget(runs=100), workers=1)  # type: ignore[arg-type]
    ran = first.run(plans)
    resumed_executor = CountingExecutor()
    resumed = TrialRunner(resumed_executor, "v.py::test_v", journal, Budget(runs=100), workers=1)  # type: ignore[arg-type]
    more = Plan(label="more", context=Context.SUITE, collect_args=(), test_ids=("b.py::test_b", "v.py::test_v"))
    again = resumed.run([*plans, more])
    assert resumed_executor.asked == ["more"] and resumed.replayed == 2
    assert again[:2] == ran and again[2].plan == more
    assert load_journal(journal) == {'[[], ["a.py::test_a", "v.py::test_v"]]': True, '[[], ["v.py::test_v"]]': False,
                                     '[[], ["b.py::test_b", "v.py::test_v"]]': False}


def test_cleaners_are_found_in_the_orders_tried_when_the_failing_order_was_built() -> None:
    """The victim runs first in its suite, so the given order has no test before it: the cleaner that
    follows the polluter is seen in "all other tests before it", which passed (issue 14: fix needs it)."""
    changes = cleaned_after_polluting([C1])
    result = run_bisect(FakeSuite(fails=flag_left_dirty(changes), changes=changes), suite_case(victim_first=True))
    assert (result.verdict, result.polluters, result.cleaners) == (Verdict.ORDER_DEPENDENT, (B1,), (C1,))
