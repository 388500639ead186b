"""Children that start from the same files: what a batch's children leave in the tree or HOME is put
back after it (wsdoctor.execution.files); children that ran side by side could have seen each
other's files, so a batch that left any is run again one plan at a time, and so is every later
batch (its answers are the ones that count; its children are kept too)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from wsdoctor.execution.files import FileRestore, FileState
from wsdoctor.execution.pool import Executor
from wsdoctor.records import Plan, PlanResult

Say = Callable[[str], None]


class FromTheSameFiles:
    def __init__(self, executor: Executor, files: FileState | None, say: Say) -> None:
        self.executor = executor
        self.files = files
        self.say = say
        self.one_at_a_time = False  # once children were seen leaving files
        self.restored: dict[str, FileRestore] = {}  # what children left, by path: put back each time

    def run(self, plans: Sequence[Plan]) -> list[PlanResult]:
        if self.one_at_a_time:
            return [self._run_then_restore([plan])[0] for plan in plans]
        results = self._run_then_restore(plans)
        if self.one_at_a_time and len(plans) > 1:
            self.say(f"  the children left files: the {len(plans)} run(s) side by side run again, one at a time")
            again = [self._run_then_restore([plan])[0] for plan in plans]
            results = [dataclasses.replace(rerun, children=(*first.children, *rerun.children))
                       for first, rerun in zip(results, again, strict=True)]
        return results

    def _run_then_restore(self, plans: Sequence[Plan]) -> list[PlanResult]:
        results = self.executor.run_plans(plans)
        self.restore()
        return results

    def restore(self) -> None:
        restored = self.files.restore() if self.files is not None else []
        if restored:
            self.one_at_a_time = True
            self.restored.update((r.shown, r) for r in restored)
            self.say("  put back what the children left: " + ", ".join(map(str, restored[:5]))
                     + (f" and {len(restored) - 5} more" if len(restored) > 5 else ""))
