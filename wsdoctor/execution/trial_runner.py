"""Bisect's trials as child runs: the real PlanRunner (wsdoctor.analysis.trials).

Every answer is appended to a journal first, so an interrupted bisect resumes by replaying
answers instead of re-running children; the --budget deadline stops the trials.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from wsdoctor.analysis.search import SearchExhausted
from wsdoctor.analysis.trials import trial_key, victim_failed
from wsdoctor.execution.pool import Executor
from wsdoctor.exits import UsageError
from wsdoctor.records import Plan, PlanResult


class TrialRunner:
    def __init__(self, executor: Executor, victim: str, journal: Path, deadline: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.executor = executor
        self.victim = victim
        self.journal = journal
        self.deadline = deadline
        self.clock = clock

    def run(self, plans: Sequence[Plan]) -> list[PlanResult]:
        if self.clock() > self.deadline:
            raise SearchExhausted("the --budget ran out")
        results = self.executor.run_plans(plans)
        with self.journal.open("a", encoding="utf-8") as handle:
            for result in results:
                entry = {"key": trial_key(result.plan), "failed": victim_failed(result, self.victim)}
                handle.write(json.dumps(entry) + "\n")
        return results


def load_journal(path: Path) -> dict[str, bool]:
    """The answers an earlier session of this bisect journaled (a failure once is a failure)."""
    answers: dict[str, bool] = {}
    if not path.exists():
        return answers
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            key, failed = str(entry["key"]), bool(entry["failed"])
        except (ValueError, KeyError, TypeError) as error:
            raise UsageError(f"{path}:{number} is not a journal entry ({type(error).__name__}); remove "
                             f"{path} to bisect from scratch") from None
        answers[key] = answers.get(key, False) or failed
    return answers
