"""Answers "does the victim fail after these tests (or imports)?" with real child runs.

Every answer is appended to a journal first, so an interrupted bisect resumes
by replaying answers instead of re-running children.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from wsdoctor.analysis.search import SearchExhausted
from wsdoctor.execution.pool import Executor
from wsdoctor.planner import files_in_order
from wsdoctor.records import Collection, Context, Outcome, Plan, PlanResult

STATE_PROBES_UP_TO = 60  # trials this small also record state changes: cheap, and they name the leak


class Oracle:
    def __init__(self, executor: Executor, collection: Collection, victim: str, journal: Path,
                 repeat: int, deadline: float) -> None:
        self.executor = executor
        self.collection = collection
        self.victim = victim
        self.victim_file = collection.path_of(victim)
        self.all_files = files_in_order(collection, [t.nodeid for t in collection.tests])
        self.journal = journal
        self.repeat = max(1, repeat)
        self.deadline = deadline
        self.runs = 0
        self.answers = _load_journal(journal)
        self.seen: dict[str, list[PlanResult]] = {}  # every run of this session, by plan

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
        ids = (*before, self.victim)
        context = Context.ALONE if len(ids) == 1 else Context.SUITE
        return Plan(label=f"bisect {len(before)} test(s) + victim", context=context,
                       collect_args=files_in_order(self.collection, ids), test_ids=ids,
                       state_probes=len(ids) <= STATE_PROBES_UP_TO if state_probes is None else state_probes)

    def import_plan(self, files: Sequence[str]) -> Plan:
        collect = self.in_collection_order([*files, self.victim_file])
        return Plan(label=f"bisect imports of {len(files)} file(s) + victim", context=Context.SUITE,
                       collect_args=collect, test_ids=(self.victim,), state_probes=True)

    def in_collection_order(self, paths: Sequence[str]) -> tuple[str, ...]:
        """Files in the order the suite imports them: import-time pollution depends on it."""
        rank = {path: i for i, path in enumerate(self.all_files)}
        return tuple(sorted(dict.fromkeys(paths), key=lambda path: rank.get(path, len(rank))))

    def alone_plan(self) -> Plan:
        return Plan(label="bisect victim alone", context=Context.ALONE,
                       collect_args=(self.victim_file,), test_ids=(self.victim,))

    # --- running --------------------------------------------------------------------

    def run(self, plans: Sequence[Plan]) -> list[PlanResult]:
        """Run plans (each `repeat` times) for their full records, e.g. to read state changes."""
        self._check_budget()
        expanded = [p for p in plans for _ in range(self.repeat)]
        runs = self.executor.run_plans(expanded)
        self.runs += len(runs)
        for run in runs:
            self._remember(run.plan, self.victim_failed(run))
            self.seen.setdefault(_key(run.plan), []).append(run)
        return runs

    def proving_run(self, plan: Plan, expect_failure: bool) -> PlanResult:
        """A run of ``plan`` with state probes showing the expected outcome, if one was seen."""
        runs = [r for r in self.seen.get(_key(plan), []) if r.plan.state_probes] or self.run([plan])
        matching = [r for r in runs if self.victim_failed(r) == expect_failure]
        return (matching or runs)[-1]

    def failure_rate(self, plan: Plan) -> tuple[int, int]:
        runs = self.seen.get(_key(plan), [])
        return sum(self.victim_failed(r) for r in runs), len(runs)

    def victim_failed(self, run: PlanResult) -> bool:
        result = run.result_of(self.victim)
        return result is not None and (result.outcome.is_bad or result.outcome is Outcome.CRASH)

    def _ask(self, plans: Sequence[Plan]) -> list[bool]:
        missing = [p for p in plans if _key(p) not in self.answers]
        if missing:
            self.run(missing)
        return [self.answers[_key(p)] for p in plans]

    def _remember(self, plan: Plan, failed: bool) -> None:
        key = _key(plan)
        # With repeats, one failure is enough: the victim fails only sometimes.
        self.answers[key] = self.answers.get(key, False) or failed
        with self.journal.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"key": key, "failed": failed}) + "\n")

    def _check_budget(self) -> None:
        if time.monotonic() > self.deadline:
            raise SearchExhausted("the --budget ran out")


def _key(plan: Plan) -> str:
    return json.dumps([plan.collect_args, plan.test_ids])


def _load_journal(path: Path) -> dict[str, bool]:
    answers: dict[str, bool] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                answers[entry["key"]] = answers.get(entry["key"], False) or bool(entry["failed"])
    return answers
