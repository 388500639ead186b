"""Bisect's trials as child runs: the real PlanRunner (wsdoctor.analysis.trials).

Every trial is appended to a journal as soon as it ends, answer and result, so an interrupted
bisect resumes by replaying them instead of re-running children (the confirming run too, whose
state probes the search ranks its suspects by). The budget of time stops the trials: given with
--budget, or derived from the first batch (the suite order up to the victim, and the victim
alone), and a batch that would not end within it is not started. Progress against the budget
is said after every batch.

Every trial starts from the files the bisect started with (wsdoctor.execution.files): what a
batch's children left is put back after it. Children that ran side by side could have seen
each other's files, so a batch that left any is run again one trial at a time, and so is every
later batch: its answers are the ones that count (its children are counted too).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wsdoctor.analysis.search import BudgetSpent
from wsdoctor.analysis.trials import default_seconds_budget, trial_key, victim_failed
from wsdoctor.codec import ShapeError, dump_json, from_jsonable
from wsdoctor.execution.files import FileState
from wsdoctor.execution.pool import Executor
from wsdoctor.execution.same_files import FromTheSameFiles
from wsdoctor.exits import UsageError
from wsdoctor.records import Plan, PlanResult

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Budget:
    """What a bisect may spend: child runs, and seconds (None: derived from the first batch)."""

    runs: int
    seconds: float | None = None
    tests: int = 0  # in the suite: a run of them all is what the time budget is measured in


class TrialRunner:
    def __init__(self, executor: Executor, victim: str, journal: Path, budget: Budget, workers: int,
                 say: Say | None = None, clock: Callable[[], float] = time.monotonic,
                 files: FileState | None = None, already: Sequence[PlanResult] = ()) -> None:
        self.executor = executor
        self.victim = victim
        self.journal = journal
        self.budget = budget
        self.workers = max(1, workers)
        self.say = say or (lambda text: None)
        self.clock = clock
        self.started = clock()
        self.seconds = budget.seconds
        self.runs = 0
        self.startup = 0.0  # seconds of a child that runs one test
        self.per_test = 0.0  # and for each test more
        self.learnt = False  # the child's startup and per-test time, from the first batch
        self.files = files
        self.same_files = FromTheSameFiles(executor, files, self.say)
        self.replays = load_replays(journal)  # trials of an earlier session of this bisect, by key
        self.replayed = 0  # trials answered from the journal: no child ran them
        if already:  # the first trials, run while collecting: they count, and the budget is learnt from them
            self.started -= max(sum(c.seconds for c in result.children) for result in already)
            self._journal(already)
            self.runs = len(already)
            self._learn(already)
            self.same_files.restore()

    def run(self, plans: Sequence[Plan]) -> list[PlanResult]:
        replayed = [self._replay(plan) for plan in plans]
        to_run = [plan for plan, result in zip(plans, replayed, strict=True) if result is None]
        fresh: list[PlanResult] = []
        if to_run:
            elapsed = self.clock() - self.started
            if self.seconds is not None and elapsed + self._estimate(to_run) > self.seconds:
                raise BudgetSpent(f"the time budget of {self.seconds:.0f} s would run out during the next "
                                  f"{len(to_run)} trial(s) ({elapsed:.0f} s spent)")
            fresh = self.same_files.run(to_run)
            self._journal(fresh)
            self.runs += len(fresh)
        self.replayed += len(plans) - len(to_run)
        answers = iter(fresh)
        results = [result if result is not None else next(answers) for result in replayed]
        self._learn(results)
        if to_run:
            self._progress()
        return results

    def _replay(self, plan: Plan) -> PlanResult | None:
        """The next journaled result of this very trial, if an earlier session of the bisect ran it."""
        earlier = self.replays.get(trial_key(plan))
        return dataclasses.replace(earlier.pop(0), plan=plan) if earlier else None

    def _journal(self, results: Sequence[PlanResult]) -> None:
        with self.journal.open("a", encoding="utf-8") as handle:
            for result in results:
                entry = {"key": trial_key(result.plan), "failed": victim_failed(result, self.victim),
                         "result": result}
                handle.write(dump_json(entry))

    @property
    def one_at_a_time(self) -> bool:
        return self.same_files.one_at_a_time

    def file_notes(self) -> list[str]:
        """For the bisect's steps: the files its trials left, put back after each."""
        restored = self.same_files.restored
        if not restored:
            return []
        kept = [r for r in restored.values() if r.restored]
        lost = [r for r in restored.values() if not r.restored]
        notes = []
        if kept:
            notes.append(f"files: the trials left {', '.join(map(str, kept))}; each was put back after every "
                         f"trial (what they wrote is kept in {self.files.aside if self.files else ''}), and "
                         "trials ran one at a time from then on")
        if lost:
            notes.append(f"files: could not put back {', '.join(map(str, lost))}: later trials saw them")
        return notes

    def _learn(self, results: Sequence[PlanResult]) -> None:
        """How long a child takes, from the first batch; the time budget, unless it was given."""
        timed = [(len(r.plan.test_ids), sum(c.seconds for c in r.children)) for r in results if r.children]
        if self.learnt or not timed:
            return
        self.learnt = True
        smallest, largest = min(timed), max(timed)
        self.startup = smallest[1]
        if largest[0] > smallest[0]:
            self.per_test = max(0.0, largest[1] - smallest[1]) / (largest[0] - smallest[0])
        if self.seconds is None:
            whole = max(largest[1], self.startup + self.per_test * self.budget.tests)
            self.seconds = default_seconds_budget(whole, self.budget.tests)
            self.say(f"budget: {self.budget.runs} child runs and {self.seconds:.0f} s (a run of the whole suite "
                     f"should take {whole:.1f} s, from the first trials; --budget changes it)")

    def _estimate(self, plans: Sequence[Plan]) -> float:
        """Seconds the batch should take: children run ``workers`` at a time."""
        each = sorted((self.startup + self.per_test * len(plan.test_ids) for plan in plans), reverse=True)
        waves = [each[i:i + self.workers] for i in range(0, len(each), self.workers)]
        return sum(wave[0] for wave in waves)

    def _progress(self) -> None:
        elapsed = self.clock() - self.started
        seconds = f" of at most {self.seconds:.0f}" if self.seconds is not None else ""
        self.say(f"  {self.runs} child run(s) of at most {self.budget.runs}; {elapsed:.0f} s{seconds}")


def load_journal(path: Path) -> dict[str, bool]:
    """The answers an earlier session of this bisect journaled (a failure once is a failure)."""
    answers: dict[str, bool] = {}
    for entry in _entries(path):
        key = str(entry["key"])
        answers[key] = answers.get(key, False) or bool(entry["failed"])
    return answers


def load_replays(path: Path) -> dict[str, list[PlanResult]]:
    """The trials an earlier session of this bisect journaled with their results, by key, in order."""
    replays: dict[str, list[PlanResult]] = {}
    for number, entry in enumerate(_entries(path), 1):
        if "result" in entry:
            try:
                result = from_jsonable(PlanResult, entry["result"])
            except ShapeError as error:
                raise _unreadable(path, number, str(error)) from None
            replays.setdefault(str(entry["key"]), []).append(result)
    return replays


def _entries(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            if not (isinstance(entry, dict) and isinstance(entry["key"], str) and isinstance(entry["failed"], bool)):
                raise TypeError("not an object with a key and an answer")
        except (ValueError, KeyError, TypeError) as error:
            raise _unreadable(path, number, type(error).__name__) from None
        entries.append(entry)
    return entries


def _unreadable(path: Path, number: int, why: str) -> UsageError:
    return UsageError(f"{path}:{number} is not a journal entry ({why}); remove {path} to bisect from scratch")
