"""wsdoctor must not cause the failures it reports: children that ran side by side, their failures
re-run alone in the machine, and the ones that did not come back set aside."""

from __future__ import annotations

import dataclasses

from wsdoctor.analysis.classify import classify
from wsdoctor.analysis.contention import SOLO, concurrent_children, solo_plans
from wsdoctor.analysis.observations import observations_by_test
from wsdoctor.analysis.verdicts import CommandStyle, all_verdicts
from wsdoctor.records import (
    ChildProcess,
    ChildStatus,
    CollectedTest,
    Collection,
    Context,
    Observation,
    Outcome,
    Plan,
    PlanResult,
    RunOptions,
    TestResult,
    Verdict,
)

A, B, C = "tests/test_chat.py::test_a", "tests/test_chat.py::test_b", "tests/test_metrics.py::test_c"


def ran(label: str, context: Context, outcomes: dict[str, Outcome], began: float, ended: float,
        collect_args: tuple[str, ...] = ("tests",)) -> PlanResult:
    child = ChildProcess(ChildStatus.COMPLETED, 1, ended - began, f"/r/children/{label}", tuple(outcomes),
                         began=began, ended=ended)
    return PlanResult(plan=Plan(label, context, collect_args, tuple(outcomes)), children=(child,),
                      results=tuple(TestResult(nodeid, outcome) for nodeid, outcome in outcomes.items()))


SUITE = ran("suite", Context.SUITE, {A: Outcome.ERROR, B: Outcome.PASSED, C: Outcome.PASSED}, 0.0, 2.0)
CHAT = ran("file tests/test_chat.py", Context.FILE, {A: Outcome.PASSED, B: Outcome.PASSED}, 1.0, 3.0,
           ("tests/test_chat.py",))
METRICS = ran("file tests/test_metrics.py", Context.FILE, {C: Outcome.HANG}, 1.5, 4.0, ("tests/test_metrics.py",))
LATER = ran("alone " + A, Context.ALONE, {A: Outcome.PASSED}, 5.0, 6.0, ("tests/test_chat.py",))


def test_children_whose_lifetimes_overlap_are_concurrent() -> None:
    assert concurrent_children([SUITE, CHAT, METRICS, LATER]) == {
        "/r/children/suite", "/r/children/file tests/test_chat.py", "/r/children/file tests/test_metrics.py"}
    assert concurrent_children([SUITE, LATER]) == frozenset()
    assert concurrent_children([dataclasses.replace(SUITE, children=(dataclasses.replace(
        SUITE.children[0], began=0.0, ended=0.0),)), CHAT]) == frozenset()  # records from before: nothing known
    # One child that ran the suite over xdist workers is one order per worker, all of one process:
    # on main each worker's failures were "beside other children" and run again alone.
    gw0, gw1 = (dataclasses.replace(SUITE, plan=dataclasses.replace(SUITE.plan, label=f"suite {worker}"))
                for worker in ("gw0", "gw1"))
    assert concurrent_children([gw0, gw1, LATER]) == frozenset()
    assert solo_plans([gw0, gw1, LATER]) == []


def test_what_went_wrong_beside_other_children_is_run_again_alone_once() -> None:
    plans = solo_plans([SUITE, CHAT, METRICS, LATER])
    assert [(p.label, p.context, p.collect_args, p.test_ids) for p in plans] == [
        ("suite" + SOLO, Context.SUITE, ("tests",), (A,)),  # the suite order up to the test that went wrong
        ("file tests/test_metrics.py" + SOLO, Context.FILE, ("tests/test_metrics.py",), (C,))]
    solo = [ran(plan.label, plan.context, {nodeid: Outcome.PASSED for nodeid in plan.test_ids}, 7.0 + i, 7.5 + i,
                plan.collect_args) for i, plan in enumerate(plans)]
    assert solo_plans([SUITE, CHAT, METRICS, LATER, *solo]) == []  # each run once


def seen(plan: str, outcome: Outcome, history: str, concurrent: bool) -> Observation:
    return Observation(plan=plan, context=Context.FILE, outcome=outcome, history=history, concurrent=concurrent)


def test_a_concurrent_failure_counts_only_if_it_comes_back_alone_in_the_machine() -> None:
    disturbed = [seen("file x", Outcome.ERROR, "h", True), seen("file x #2", Outcome.ERROR, "h", True),
                 seen("file x" + SOLO, Outcome.PASSED, "h", False)]
    verdict, reason = classify(disturbed)
    assert verdict is Verdict.PASS
    assert reason.endswith("set aside: 2 failure(s) seen while other children ran, which did not come back when "
                           "run again alone in the machine")
    confirmed = [*disturbed[:2], seen("file x" + SOLO, Outcome.ERROR, "h", False)]
    assert classify(confirmed)[0] is Verdict.FAIL
    never_checked = disturbed[:2]  # no solo run: nothing says it was the neighbours
    assert classify(never_checked)[0] is Verdict.FAIL


def test_observations_know_whether_their_child_ran_beside_others() -> None:
    found = observations_by_test([SUITE, CHAT, LATER], concurrent_children([SUITE, CHAT, LATER]))
    assert [(o.plan, o.concurrent) for o in found[A]] == [("suite", True), ("file tests/test_chat.py", True),
                                                          ("alone " + A, False)]


def test_a_failure_is_rechecked_on_its_smallest_run_first_and_on_the_others_only_if_it_did_not_come_back() -> None:
    in_file = ran("file tests/test_chat.py", Context.FILE, {A: Outcome.FAILED, B: Outcome.PASSED}, 0.0, 2.0,
                  ("tests/test_chat.py",))
    alone = ran("alone " + A, Context.ALONE, {A: Outcome.FAILED}, 1.0, 3.0, ("tests/test_chat.py",))
    [first] = solo_plans([in_file, alone])
    assert (first.context, first.test_ids) == (Context.ALONE, (A,))

    def solo(outcome: Outcome) -> PlanResult:
        return ran(first.label, Context.ALONE, {A: outcome}, 4.0, 5.0, ("tests/test_chat.py",))

    assert solo_plans([in_file, alone, solo(Outcome.FAILED)]) == []  # it fails alone in the machine too: its own
    [then] = solo_plans([in_file, alone, solo(Outcome.PASSED)])  # it did not come back: the file run is made too
    assert (then.label, then.context, then.test_ids) == ("file tests/test_chat.py" + SOLO, Context.FILE, (A, B))


def test_the_failing_command_shows_an_order_whose_failure_counted_not_one_set_aside() -> None:
    """The suite order failed beside the shuffled one (a port both bound) and passed alone in the
    machine; the shuffled order failed alone too. On main the printed `# fails` command was the
    suite order's, which passes."""
    suite = ran("suite", Context.SUITE, {A: Outcome.ERROR, B: Outcome.PASSED, C: Outcome.PASSED}, 0.0, 2.0)
    shuffled = ran("shuffle 1", Context.SUITE, {B: Outcome.PASSED, A: Outcome.FAILED, C: Outcome.PASSED}, 0.5, 2.5)
    suite_solo = ran("suite" + SOLO, Context.SUITE, {A: Outcome.PASSED}, 3.0, 3.5)
    shuffled_solo = ran("shuffle 1" + SOLO, Context.SUITE, {B: Outcome.PASSED, A: Outcome.FAILED}, 4.0, 4.5)
    alone = ran("alone " + A, Context.ALONE, {A: Outcome.PASSED}, 5.0, 5.5, ("tests/test_chat.py",))
    collection = Collection(rootdir="/p", inifile=None, tests=tuple(
        CollectedTest(nodeid, nodeid.split("::")[0]) for nodeid in (A, B, C)))
    style = CommandStyle(python="python", pytest_args=(), orders_dir=".wsdoctor/runs/r/orders")
    verdicts = {v.nodeid: v for v in all_verdicts(collection, [suite, shuffled, suite_solo, shuffled_solo, alone],
                                                  RunOptions(paths=("tests",), pytest_args=(), python="python"), style)}
    assert verdicts[A].verdict is Verdict.ORDER_DEPENDENT
    assert verdicts[A].reproduce == (f"python -m pytest -p no:randomly {B} {A}  # fails",
                                     f"python -m pytest -p no:randomly {A}  # passes")
