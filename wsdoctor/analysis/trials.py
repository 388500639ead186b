"""A bisect's trials: its questions as plans, run through a PlanRunner, and what they answered.

A trial is one child run of the bisect: "does the victim fail after these tests (or after
collecting these files)?". The PlanRunner is the seam where the strategy meets processes: the
real one (wsdoctor.execution.trial_runner) runs children, journals every answer and stops at the
budget; tests give a dictionary-backed one that says which orders fail. Nothing here starts a
process, reads a file or looks at a clock.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Protocol

from wsdoctor.analysis.contention import concurrent_children
from wsdoctor.analysis.search import BudgetSpent
from wsdoctor.planner import files_in_order, in_collection_order
from wsdoctor.records import Collection, Context, Outcome, Plan, PlanResult

STATE_PROBES_UP_TO = 60  # trials this small also record state changes: cheap, and they name the leak
MIN_SECONDS_BUDGET = 60.0


def default_run_budget(tests: int, workers: int) -> int:
    """Child runs a bisect may take unless told otherwise: a small multiple of bisection's log2 N.

    About log2 N for one polluter found by halves, as many again for a conjunction, and rounds
    of groups (2, then 4 per worker) when the victim fails in no whole order of the suite.
    """
    return 3 * math.ceil(math.log2(tests + 1)) + 6 * max(1, workers) + 10


def default_seconds_budget(whole_suite: float, tests: int) -> float:
    """Time a bisect may take unless told otherwise, from how long one run of the whole suite takes
    (learnt from the first trials): as many as bisection's rounds and a few more, and no trial
    runs more than the whole suite."""
    return max(MIN_SECONDS_BUDGET, whole_suite * (math.ceil(math.log2(tests + 1)) + 4))


class PlanRunner(Protocol):
    def run(self, plans: Sequence[Plan]) -> list[PlanResult]:
        """Each plan once, in a fresh child: the results in the plans' order.

        Raises BudgetSpent (wsdoctor.analysis.search) when the budget of time is spent.
        """
        ...


def trial_key(plan: Plan) -> str:
    """Trials with the same key ask the same question: what was collected, what ran."""
    return json.dumps([plan.collect_args, plan.test_ids])


def order_plan(collection: Collection, victim: str, before: Sequence[str], state_probes: bool | None = None) -> Plan:
    """The trial "does the victim fail after ``before``?" (probes on for small ones, unless told)."""
    ids = (*before, victim)
    context = Context.ALONE if len(ids) == 1 else Context.SUITE
    probes = len(ids) <= STATE_PROBES_UP_TO if state_probes is None else state_probes
    return Plan(label=f"bisect {len(before)} test(s) + victim", context=context,
                collect_args=files_in_order(collection, ids), test_ids=ids, state_probes=probes)


def first_halving_question(collection: Collection, victim: str, order: Sequence[str]) -> Plan:
    """What a search without evidence asks first (wsdoctor.analysis.search): the first half of the
    tests before the victim."""
    return order_plan(collection, victim, order[: len(order) // 2])


def child_runs(results: Sequence[PlanResult]) -> int:
    """The child runs behind these results (a plan continued after a crash is several)."""
    return sum(max(1, len(result.children)) for result in results)


def victim_failed(result: PlanResult, victim: str) -> bool:
    outcome = result.result_of(victim)
    return outcome is not None and (outcome.outcome.is_bad or outcome.outcome is Outcome.CRASH)


class Trials:
    """The trials of one bisect; ``known`` answers (replayed from a journal) are not asked again."""

    def __init__(self, runner: PlanRunner, collection: Collection, victim: str, repeat: int = 1,
                 known: Mapping[str, bool] | None = None, max_runs: int | None = None,
                 ready: Sequence[PlanResult] = ()) -> None:
        self.runner = runner
        self.collection = collection
        self.victim = victim
        self.victim_file = collection.path_of(victim)
        self.all_files = files_in_order(collection, [t.nodeid for t in collection.tests])
        self.repeat = max(1, repeat)
        self.count = child_runs(ready)  # trials run (collection not counted); the ready ones ran, used or not
        self.max_runs = max_runs  # the budget of trials; proofs may go past it
        self.answers: dict[str, bool] = dict(known or {})
        self.seen: dict[str, list[PlanResult]] = {}  # every trial of this session, by key
        self.smallest_failing: PlanResult | None = None  # the fewest tests seen failing the victim
        self.ready = {trial_key(result.plan): result for result in ready}  # trials run already, once each

    def left(self) -> int | None:
        """Trials the budget still allows (None: no limit)."""
        return None if self.max_runs is None else max(0, self.max_runs - self.count)

    # --- batch questions, as the search asks them --------------------------------

    def tests_fail(self, sets: Sequence[tuple[str, ...]]) -> list[bool]:
        """Does the victim fail after each set of tests (their files collected, in order)?"""
        return self._ask([self.order_plan(chosen) for chosen in sets])

    def imports_fail(self, sets: Sequence[tuple[str, ...]]) -> list[bool]:
        """Does the victim fail when only these files are collected and only it runs?"""
        return self._ask([self.import_plan(files) for files in sets])

    def passes_after(self, sets: Sequence[tuple[str, ...]]) -> list[bool]:
        """For a brittle victim: does it pass after each set (the state-setter search)?"""
        return [not failed for failed in self.tests_fail(sets)]

    # --- plans ----------------------------------------------------------------------

    def order_plan(self, before: Sequence[str], state_probes: bool | None = None) -> Plan:
        return order_plan(self.collection, self.victim, before, state_probes)

    def import_plan(self, files: Sequence[str]) -> Plan:
        collect = self.in_collection_order([*files, self.victim_file])
        return Plan(label=f"bisect imports of {len(files)} file(s) + victim", context=Context.SUITE,
                    collect_args=collect, test_ids=(self.victim,), state_probes=True)

    def in_collection_order(self, paths: Sequence[str]) -> tuple[str, ...]:
        return in_collection_order(self.collection, paths)

    def alone_plan(self) -> Plan:
        return Plan(label="bisect victim alone", context=Context.ALONE,
                    collect_args=(self.victim_file,), test_ids=(self.victim,))

    # --- running --------------------------------------------------------------------

    def run(self, plans: Sequence[Plan], beyond_budget: bool = False) -> list[PlanResult]:
        """Plans (each ``repeat`` times) for their full results, e.g. to read state changes.

        Raises BudgetSpent when they do not fit in what is left of the budget of trials.
        """
        wanted = [plan for plan in plans for _ in range(self.repeat)]
        left = self.left()
        if not beyond_budget and left is not None and len(wanted) > left:
            raise BudgetSpent(f"the budget of {self.max_runs} child runs is spent")
        ready = [self.ready.pop(trial_key(plan), None) for plan in wanted]
        fresh = self.runner.run([plan for plan, done in zip(wanted, ready, strict=True) if done is None])
        self.count += child_runs(fresh)
        ran = iter(fresh)
        results = [done if done is not None else next(ran) for done in ready]
        self._record(results)
        return results

    def _record(self, results: Sequence[PlanResult]) -> None:
        for result in results:
            key = trial_key(result.plan)
            # With repeats, one failure is enough: the victim fails only sometimes.
            self.answers[key] = self.answers.get(key, False) or self.failed(result)
            self.seen.setdefault(key, []).append(result)
            self._keep_if_smallest(result)

    def _keep_if_smallest(self, result: PlanResult) -> None:
        """A failure after fewer tests than any before: the best proven answer so far."""
        ran = result.plan.test_ids
        if not self.failed(result) or len(ran) < 2 or ran[-1] != self.victim:
            return
        known = self.smallest_failing
        if known is None or len(ran) < len(known.plan.test_ids):
            self.smallest_failing = result

    def proving_run(self, plan: Plan, expect_failure: bool) -> PlanResult:
        """A run of ``plan`` with state probes showing the expected outcome, if one was seen.

        A failure proves something only if it was seen with no other trial running: trials side by
        side share the machine (a fixed port, a file, a database), and one may fail for what another
        does. When no such run failed, the plan runs once more, alone: the result may then not show
        the expected outcome (the caller says so). A proof may go past the budget of trials: the
        answer is known, it only needs showing.
        """
        seen = [r for r in self.seen.get(trial_key(plan), []) if r.plan.state_probes]
        if expect_failure:
            concurrent = concurrent_children([r for results in self.seen.values() for r in results])
            seen = [r for r in seen if not any(child.artifacts in concurrent for child in r.children)]
        if not any(self.failed(r) == expect_failure for r in seen):
            alone = self.runner.run([plan])  # one plan in the batch: nothing else runs beside it
            self.count += child_runs(alone)
            self._record(alone)
            seen += alone
        matching = [r for r in seen if self.failed(r) == expect_failure]
        return (matching or seen)[-1]

    def failure_rate(self, plan: Plan) -> tuple[int, int]:
        results = self.seen.get(trial_key(plan), [])
        return sum(self.failed(r) for r in results), len(results)

    def failed(self, result: PlanResult) -> bool:
        return victim_failed(result, self.victim)

    def _ask(self, plans: Sequence[Plan]) -> list[bool]:
        missing = [p for p in plans if trial_key(p) not in self.answers]
        if missing:
            self.run(missing)
        return [self.answers[trial_key(p)] for p in plans]
