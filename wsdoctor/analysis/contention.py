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
    """The children (by their directory) whose lifetime overlapped another child's."""
    children = sorted((child for result in plan_results for child in result.children if child.ended),
                      key=lambda child: child.began)
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
    """One re-run, alone in the machine, of every run in which a test did not pass while other
    children ran: a suite order up to the last such test, a file or a test alone as it was.
    Runs already made alone in the machine are not made again."""
    concurrent = concurrent_children(plan_results)
    solo_keys = {result.plan.key for result in plan_results
                 if result.children and not any(child.artifacts in concurrent for child in result.children)}
    plans: dict[tuple[tuple[str, ...], tuple[str, ...]], Plan] = {}
    for result in plan_results:
        disturbed = [index for index, test in enumerate(result.results) if test.outcome.went_wrong
                     and (child := child_of(result, test.nodeid)) is not None and child.artifacts in concurrent]
        if not disturbed:
            continue
        plan = result.plan
        ids = plan.test_ids[: disturbed[-1] + 1] if plan.context is Context.SUITE else plan.test_ids
        solo = Plan(label=plan.label.removesuffix(SOLO) + SOLO, context=plan.context, collect_args=plan.collect_args,
                    test_ids=ids, attempt=plan.attempt + 1, state_probes=plan.state_probes)
        if solo.key not in solo_keys:
            plans.setdefault(solo.key, solo)
    return list(plans.values())
