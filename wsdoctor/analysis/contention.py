"""wsdoctor must not cause the failures it reports: which children ran beside others, and which of
their failures must be seen again with nothing else running before they count.

Children that run at the same time share the machine: a fixed port, a file, a database, a lock.
Two test files that serve on the same port pass in plain pytest and fail when wsdoctor runs them
side by side; a failure seen in such a child is *concurrent*, and it counts only when the same
run (the same tests before it, the same files collected) fails again alone in the machine. The
solo re-runs are planned here and run one at a time; classify sets aside the concurrent failures
they did not confirm. Pure: no process, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence

from wsdoctor.records import ChildProcess, Context, Plan, PlanResult

SOLO = " (alone in the machine)"  # the label of a solo re-run: its plan's, with this after it


def concurrent_children(plan_results: Sequence[PlanResult]) -> frozenset[str]:
    """The children (by their directory) whose lifetime overlapped another child's. A child that ran
    its suite over xdist workers is one process in each worker's order: its workers run side by side
    as the project runs them, not beside a child of wsdoctor's."""
    processes = {child.artifacts: child for result in plan_results for child in result.children if child.ended}
    children = sorted(processes.values(), key=lambda child: child.began)
    overlapping: set[str] = set()
    latest: ChildProcess | None = None  # of the children so far, the one that ended last
    for child in children:
        if latest is not None and child.began < latest.ended:
            overlapping.update((child.artifacts, latest.artifacts))
        if latest is None or child.ended > latest.ended:
            latest = child
    return frozenset(overlapping)


def child_of(result: PlanResult, nodeid: str) -> ChildProcess | None:
    """The child that ran a test of a plan (a plan continues in a new child after a crash)."""
    return next((child for child in result.children if nodeid in child.started), None)


def solo_plans(plan_results: Sequence[PlanResult]) -> list[Plan]:
    """Runs to make again, alone in the machine, for the tests that went wrong beside other children.

    A test is re-checked on its smallest such run first (alone, else its file, else the suite order
    up to it). When that comes back, the failure is the test's own and the rest of its concurrent
    runs stand; when it does not, every other run it went wrong in beside others is made again too
    (the next call plans those). Called until it plans nothing: each run is made alone once.
    """
    concurrent = concurrent_children(plan_results)
    solo_runs = {result.plan.key: result for result in plan_results
                 if result.children and not any(child.artifacts in concurrent for child in result.children)}
    disturbed: dict[str, list[Plan]] = {}  # test -> the solo plan of each run it went wrong in beside others
    confirmed: set[str] = set()
    for result in plan_results:
        wrong = [index for index, test in enumerate(result.results) if test.outcome.went_wrong
                 and (child := child_of(result, test.nodeid)) is not None and child.artifacts in concurrent]
        if not wrong:
            continue
        solo = _solo_plan(result.plan, wrong[-1])
        solo_run = solo_runs.get(solo.key)
        for index in wrong:
            nodeid = result.results[index].nodeid
            again = solo_run.result_of(nodeid) if solo_run is not None else None
            if again is not None and again.outcome.went_wrong:
                confirmed.add(nodeid)
            disturbed.setdefault(nodeid, []).append(solo)
    plans: dict[tuple[tuple[str, ...], tuple[str, ...]], Plan] = {}
    for nodeid, solos in disturbed.items():
        done = [solo for solo in solos if solo.key in solo_runs]
        if nodeid in confirmed:
            continue
        wanted = [p for p in solos if p.key not in solo_runs] if done else [min(solos, key=_smallness)]
        for plan in wanted:
            plans.setdefault(plan.key, plan)
    return list(plans.values())


def _solo_plan(plan: Plan, index: int) -> Plan:
    """The same run, to be made alone in the machine: a suite order only up to the test at ``index``
    (the last that went wrong in it)."""
    ids = plan.test_ids[: index + 1] if plan.context is Context.SUITE else plan.test_ids
    return Plan(label=plan.label.removesuffix(SOLO) + SOLO, context=plan.context, collect_args=plan.collect_args,
                test_ids=ids, attempt=plan.attempt + 1, state_probes=plan.state_probes)


def _smallness(plan: Plan) -> tuple[int, int]:
    return (_CONTEXT_SIZE[plan.context], len(plan.test_ids))


_CONTEXT_SIZE = {Context.ALONE: 0, Context.FILE: 1, Context.SUITE: 2}
