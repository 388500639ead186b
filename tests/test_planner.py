"""Planning is pure: collected tests + options in, ordered plans out."""

from __future__ import annotations

from wsdoctor.planner import confirmation_plans, discovering_plans, files_in_order, second_look_plans, suite_plans
from wsdoctor.records import (
    ChildProcess,
    ChildStatus,
    CollectedTest,
    Collection,
    Context,
    Isolation,
    Outcome,
    Plan,
    PlanResult,
    RunOptions,
    TestResult,
)

COLLECTION = Collection(rootdir="/p", inifile=None, tests=tuple(
    CollectedTest(nodeid=f"tests/{f}.py::t{i}", path=f"tests/{f}.py") for f in ("a", "b") for i in (1, 2)))
IDS = tuple(t.nodeid for t in COLLECTION.tests)


def options(**overrides: object) -> RunOptions:
    base: dict[str, object] = {"paths": ("tests",), "pytest_args": (), "python": "python"}
    return RunOptions(**{**base, **overrides})  # type: ignore[arg-type]


def ran(plan: Plan, outcomes: dict[str, Outcome]) -> PlanResult:
    results = tuple(TestResult(nodeid=i, outcome=outcomes.get(i, Outcome.PASSED)) for i in plan.test_ids)
    child = ChildProcess(status=ChildStatus.COMPLETED, exit_code=0, seconds=0.1, artifacts="",
                     started=plan.test_ids)
    return PlanResult(plan=plan, results=results, children=(child,))


def test_default_plan_is_the_suite_in_collection_order_with_the_users_paths() -> None:
    [plan] = suite_plans(COLLECTION, options())
    assert (plan.label, plan.context, plan.collect_args, plan.test_ids) == (
        "suite", Context.SUITE, ("tests",), IDS)


def test_reverse_collects_files_in_reversed_import_order() -> None:
    plans = {p.label: p for p in suite_plans(COLLECTION, options(reverse=True))}
    assert plans["reverse"].test_ids == IDS[::-1]
    assert plans["reverse"].collect_args == ("tests/b.py", "tests/a.py")


def test_shuffle_is_reproducible_from_its_seed_and_permutes_all_tests() -> None:
    first = {p.label: p for p in suite_plans(COLLECTION, options(shuffle=7))}["shuffle 7"]
    again = {p.label: p for p in suite_plans(COLLECTION, options(shuffle=7))}["shuffle 7"]
    assert first.test_ids == again.test_ids
    assert sorted(first.test_ids) == sorted(IDS)


def test_repeat_makes_identical_plans() -> None:
    plans = suite_plans(COLLECTION, options(repeat=3))
    assert [p.label for p in plans] == ["suite #1", "suite #2", "suite #3"]
    assert len({p.key for p in plans}) == 1


def test_isolation_modes() -> None:
    by_file = [p for p in suite_plans(COLLECTION, options(isolate=Isolation.FILE)) if p.context is Context.FILE]
    by_test = [p for p in suite_plans(COLLECTION, options(isolate=Isolation.TEST)) if p.context is Context.ALONE]
    assert [p.collect_args for p in by_file] == [("tests/a.py",), ("tests/b.py",)]
    assert [p.test_ids for p in by_test] == [(i,) for i in IDS]


def test_files_in_order_keeps_first_appearance() -> None:
    assert files_in_order(COLLECTION, [IDS[2], IDS[0], IDS[3]]) == ("tests/b.py", "tests/a.py")


def test_second_look_runs_the_file_and_the_test_alone_twice_for_each_failure() -> None:
    [suite] = suite_plans(COLLECTION, options())
    plans = second_look_plans(COLLECTION, [ran(suite, {IDS[3]: Outcome.FAILED})])
    assert [(p.context, p.test_ids) for p in plans] == [
        (Context.FILE, IDS[2:]), (Context.FILE, IDS[2:]),
        (Context.ALONE, (IDS[3],)), (Context.ALONE, (IDS[3],))]


def test_second_look_counts_alone_runs_already_done() -> None:
    plans = suite_plans(COLLECTION, options(isolate=Isolation.TEST))
    runs = [ran(p, {IDS[0]: Outcome.FAILED}) for p in plans]
    alone = [p for p in second_look_plans(COLLECTION, runs) if p.context is Context.ALONE]
    assert [(p.test_ids, p.attempt) for p in alone] == [((IDS[0],), 1)]


def test_confirmation_reruns_the_suite_prefix_up_to_the_last_failure_needing_it() -> None:
    [suite] = suite_plans(COLLECTION, options())
    run = ran(suite, {IDS[1]: Outcome.FAILED, IDS[3]: Outcome.FAILED})
    [plan] = confirmation_plans([run], needs_confirmation={IDS[1]})
    assert (plan.label, plan.test_ids, plan.collect_args) == ("suite (second look)", IDS[:2], ("tests",))


def test_no_confirmation_when_failures_fail_everywhere() -> None:
    [suite] = suite_plans(COLLECTION, options())
    assert confirmation_plans([ran(suite, {IDS[1]: Outcome.FAILED})], needs_confirmation=set()) == []


def test_with_the_audit_only_the_suite_orders_first_run_pays_for_the_state_probes() -> None:
    plans = suite_plans(COLLECTION, options(audit=True, shuffle=3, reverse=True, repeat=2))
    assert [(p.label, p.state_probes) for p in plans] == [
        ("suite #1", True), ("suite #2", False), ("reverse #1", False), ("reverse #2", False),
        ("shuffle 3 #1", False), ("shuffle 3 #2", False)]


def test_the_suite_and_a_shuffled_order_collect_for_themselves_when_nothing_else_is_asked() -> None:
    suite, shuffled = discovering_plans(options(shuffle=5, audit=True))
    assert (suite.label, suite.test_ids, suite.state_probes, suite.child_shuffle) == ("suite", (), True, None)
    assert (shuffled.label, shuffled.collect_args, shuffled.state_probes, shuffled.child_shuffle) == (
        "shuffle 5", ("tests",), False, 5)
    assert [p.label for p in discovering_plans(options())] == ["suite"]
    for other in ({"reverse": True}, {"repeat": 2}, {"isolate": Isolation.FILE}):
        assert discovering_plans(options(shuffle=5, **other)) == []


def test_a_planned_shuffle_imports_the_files_in_the_suites_order_as_a_child_shuffle_does() -> None:
    planned = {p.label: p for p in suite_plans(COLLECTION, options(shuffle=5, reverse=True))}["shuffle 5"]
    assert planned.collect_args == ("tests",)


def test_reproduce_commands_put_paths_after_a_double_dash_when_the_user_gave_pytest_arguments() -> None:
    """`wsdoctor run -- --debug`: pytest's --debug takes an optional value, and would take the node id for it
    (and write its log over the test file)."""
    from wsdoctor.analysis.verdicts import CommandStyle

    style = CommandStyle(python="python", pytest_args=("--debug",), orders_dir="")
    assert style.pytest("tests/t.py::a") == "python -m pytest -p no:randomly --debug -- tests/t.py::a"
    assert style.pytest("tests/t.py", "--deselect", "tests/t.py::b") == (
        "python -m pytest -p no:randomly --debug --deselect tests/t.py::b -- tests/t.py")
    assert style.pytest(ids_follow=True) == "python -m pytest -p no:randomly --debug --"  # xargs appends the ids
    assert style.pytest() == "python -m pytest -p no:randomly --debug"  # the whole suite: no path to protect
    plain = CommandStyle(python="python", pytest_args=(), orders_dir="")
    assert plain.pytest("tests/t.py::a") == "python -m pytest -p no:randomly tests/t.py::a"


def test_reproduce_commands_name_a_file_pytest_cannot_take_through_its_directory_and_names() -> None:
    from wsdoctor.analysis.verdicts import nameable

    polluter, victim = "tests/test_a.py::test_go_online", "tests/test_presence [1].py::test_nobody_online"
    assert nameable([polluter, victim]) == ["tests", "-k", "test_go_online or test_nobody_online"]
    assert nameable(["tests/test_presence [1].py::test_label[do not disturb]"]) == ["tests", "-k", "test_label"]
    assert nameable(["--collect-only", "-q", "tests/deep/x [1].py"]) == ["--collect-only", "-q", "tests/deep"]
    assert nameable(["tests/a.py", "--deselect", "tests/a [1].py::t"]) == ["tests/a.py", "--deselect",
                                                                          "tests/a [1].py::t"]
    assert nameable([polluter, "tests/test_b.py"]) == [polluter, "tests/test_b.py"]
