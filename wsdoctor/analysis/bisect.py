"""The bisect strategy: from a victim and a failing order to a proven culprit and its leaked state.

1. Confirm, each in a fresh child: the victim in the given order, and alone. It fails alone
   too: ``fails-alone``; alone it fails only sometimes: ``flaky``; it fails alone and passes in
   the order: ``brittle``, and the *state-setters* it needs are searched for.
2. When it passes in the given order, look for an order that fails it: all other tests before
   it, then reversed, then smaller groups in parallel (suspects first), so that a cleaner lands
   in another group than its polluter; none: ``not-reproduced``, with what was tried.
3. Search the minimal set (wsdoctor.analysis.search): imports first when the evidence points at
   a file, or when it points at nothing; a conjunction of tests is found too.
4. Prove it (the victim fails after the culprits, with state probes on) and name the leaked
   state, most relevant first, and the tests of the order that put it back (cleaners).

Written against wsdoctor.analysis.trials.PlanRunner: no process, no file, no clock here. A budget
is the runner's to enforce (it raises SearchExhausted); the grouping of victims and a budget of
trials, when they come, belong here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from wsdoctor.analysis.leaks import Leak, rank, replay_until, suspects, tokens_of
from wsdoctor.analysis.search import SearchExhausted, SearchLog, find_minimal_set
from wsdoctor.analysis.trials import Trials
from wsdoctor.analysis.verdicts import CommandStyle
from wsdoctor.planner import files_in_order
from wsdoctor.records import (
    BisectResult,
    BisectVerdict,
    Collection,
    Confidence,
    PlanResult,
    Scope,
    TestResult,
    Verdict,
)

SUSPECTS_TRIED = 8
PLAIN_PYTEST = CommandStyle(python="python", pytest_args=(), orders_dir="")
Narrate = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Case:
    """What a bisect starts from."""

    victim: str
    collection: Collection
    order: tuple[str, ...]  # the tests before the victim in the order to confirm
    collect_args: tuple[str, ...]  # what to collect for that order
    workers: int = 2  # trials run side by side: the width of the search
    source: str = ""  # the victim's file: names it uses point at the state it reads
    style: CommandStyle = PLAIN_PYTEST  # how the reproduce commands are spelled


def bisect(case: Case, trials: Trials, narrate: Narrate | None = None) -> BisectResult:
    """The verdict on ``case.victim``; ``seconds`` is left for the caller, who has the clock."""
    return _Strategy(case, trials, narrate or (lambda text: None)).run()


class _Strategy:
    def __init__(self, case: Case, trials: Trials, narrate: Narrate) -> None:
        self.case = case
        self.victim = case.victim
        self.trials = trials
        self.say = narrate
        self.log = SearchLog()
        self.suite_run: PlanResult | None = None  # the confirming run of the given order, with probes
        self.failure: TestResult | None = None  # the victim's failure that the answer explains

    def run(self) -> BisectResult:
        self.say(f"bisecting {self.victim}: confirming that it fails in the given order "
                 f"({len(self.case.order)} test(s) before it) and passes alone")
        in_order, alone = self._confirm()
        self.suite_run = in_order[0]
        order_failures = sum(map(self.trials.failed, in_order))
        alone_failures = sum(map(self.trials.failed, alone))
        self._note_failure(*in_order, *alone)
        repeat = len(alone)
        if alone_failures == repeat and order_failures == repeat:
            return self._result(Verdict.FAILS_ALONE, f"{self.victim} fails alone too: no other test is to blame")
        if 0 < alone_failures < repeat:
            return self._result(Verdict.FLAKY, f"alone it failed {alone_failures} of {repeat} runs")
        if alone_failures == repeat:
            return self._search_state_setters(in_order[0])
        if order_failures:
            detail = f"the failing order failed {order_failures} of {len(in_order)} run(s)"
            return self._search_polluters(self.case.order, in_order[0], detail)
        return self._find_order_then_search(in_order[0])

    def _confirm(self) -> tuple[list[PlanResult], list[PlanResult]]:
        plan = dataclasses.replace(self.trials.order_plan(self.case.order, state_probes=True),
                                   collect_args=self.case.collect_args, label="bisect: the failing order")
        results = self.trials.run([plan, self.trials.alone_plan()])
        repeat = self.trials.repeat
        return results[:repeat], results[repeat:]

    # --- polluters ----------------------------------------------------------------------

    def _search_polluters(self, order: tuple[str, ...], probe_run: PlanResult, detail: str) -> BisectResult:
        self._note_failure(probe_run)
        ranked, tokens = self._ranked_leaks(probe_run)
        hints = suspects(ranked, tokens, SUSPECTS_TRIED)
        files = self._import_candidates(probe_run)
        file_hints = [h for h in hints if h in files]
        test_hints = [h for h in hints if h in order]
        try:
            if file_hints or not test_hints:
                found = self._search_imports(files, file_hints)
                if found:
                    return self._polluted(found, Scope.FILE_IMPORT, detail)
            self.say(f"searching {len(order)} test(s) for the minimal set of polluters")
            # The confirming run just failed after all of `order`; should the narrower collection
            # of the search runs not fail, the prefix search finds out and says so.
            polluters = find_minimal_set(order, self.trials.tests_fail, self.case.workers, test_hints, self.log)
        except SearchExhausted as stop:
            return self._result(Verdict.NOT_REPRODUCED, f"the search stopped: {stop}")
        return self._polluted(polluters, Scope.TEST if len(polluters) == 1 else Scope.TESTS, detail)

    def _search_imports(self, files: list[str], hints: list[str]) -> tuple[str, ...]:
        self.say(f"checking whether importing one of {len(files)} file(s) is enough to break the victim")
        try:
            return find_minimal_set(files, self.trials.imports_fail, self.case.workers, hints,
                                    self.log, known_to_fail=False)
        except SearchExhausted:
            self.log.steps.append("collecting the other files without running their tests does not "
                                  "fail the victim: the polluter is a test")
            return ()

    def _polluted(self, polluters: tuple[str, ...], scope: Scope, detail: str) -> BisectResult:
        victim = self.victim
        imports = scope is Scope.FILE_IMPORT
        final = self._final_run(polluters, expect_failure=True, imports=imports)
        failed, total = self.trials.failure_rate(final.plan)
        leaks = self._leaks_by(final, polluters)
        what = "importing " + ", ".join(polluters) if imports else ", ".join(polluters)
        return dataclasses.replace(
            self._result(Verdict.ORDER_DEPENDENT, f"{victim} fails after {what}"),
            polluters=polluters, scope=scope, leaked_state=tuple(leak.change for leak in leaks),
            confidence=Confidence.HIGH if total and failed == total else Confidence.MEDIUM,
            confidence_detail=f"failed in {failed} of {total} run(s) after the polluters; {detail}",
            cleaners=self._cleaners(leaks), reproduce=self._polluted_commands(polluters, imports))

    def _polluted_commands(self, polluters: tuple[str, ...], imports: bool) -> tuple[str, str]:
        victim, pytest = self.victim, self.case.style.pytest
        if not imports:
            return pytest(*polluters, victim) + "  # fails", pytest(victim) + "  # passes"
        victim_file = self.case.collection.path_of(victim)
        files = self.trials.in_collection_order([*polluters, victim_file])
        collected = [victim if f == victim_file else f for f in files]
        deselect = [arg for f in polluters for arg in ("--deselect", f)]
        return pytest(*collected, *deselect) + "  # fails: importing is enough", pytest(victim) + "  # passes"

    # --- state-setters --------------------------------------------------------------------

    def _search_state_setters(self, passing_run: PlanResult) -> BisectResult:
        victim, order = self.victim, self.case.order
        if self.trials.failed(passing_run) or not order:
            return self._result(Verdict.FAILS_ALONE, f"{victim} fails alone and in the order")
        self.say(f"{victim} passes after {len(order)} test(s) and fails alone: "
                 "searching for the state-setter it depends on")
        ranked, tokens = self._ranked_leaks(passing_run)
        try:
            setters = find_minimal_set(order, self.trials.passes_after, self.case.workers,
                                       suspects(ranked, tokens, SUSPECTS_TRIED), self.log)
        except SearchExhausted as stop:
            return self._result(Verdict.FAILS_ALONE, f"fails alone; no state-setter found ({stop})")
        final = self._final_run(setters, expect_failure=False)
        failed, total = self.trials.failure_rate(final.plan)
        pytest = self.case.style.pytest
        return dataclasses.replace(
            self._result(Verdict.BRITTLE, f"{victim} passes only after {', '.join(setters)}"),
            state_setters=setters, leaked_state=tuple(leak.change for leak in self._leaks_by(final, setters)),
            confidence=Confidence.HIGH if total and not failed else Confidence.MEDIUM,
            confidence_detail=f"passed in {total - failed} of {total} run(s) after the state-setters",
            reproduce=(pytest(victim) + "  # fails", pytest(*setters, victim) + "  # passes"))

    # --- a failing order --------------------------------------------------------------------

    def _find_order_then_search(self, passing_run: PlanResult) -> BisectResult:
        victim = self.victim
        self.say(f"{victim} passes in the given order: looking for an order that fails it")
        others = [t.nodeid for t in self.case.collection.tests if t.nodeid != victim]
        attempts = [("all other tests before it", tuple(others)),
                    ("all other tests, reversed, before it", tuple(reversed(others)))]
        try:
            for description, attempt in attempts:
                result = self.trials.run([self.trials.order_plan(attempt, state_probes=True)])[0]
                failed = self.trials.failed(result)
                self.log.steps.append(f"{description}: victim {'fails' if failed else 'passes'}")
                if failed:
                    return self._search_polluters(attempt, result, f"found by running {description}")
            found = self._try_groups(others, passing_run)
        except SearchExhausted as stop:
            self.log.steps.append(str(stop))
            found = None
        if found is None:
            return self._result(Verdict.NOT_REPRODUCED, f"no order tried within the budget fails {victim}")
        group, result = found
        return self._search_polluters(group, result, "found in a group of tests run before it")

    def _try_groups(self, others: list[str], probe_run: PlanResult) -> tuple[tuple[str, ...], PlanResult] | None:
        """Smaller groups in parallel, so that a cleaner falls into another group than its polluter."""
        ranked, tokens = self._ranked_leaks(probe_run)
        first = suspects(ranked, tokens, len(others))
        pool = first + [t for t in others if t not in first]
        size = max(1, math.ceil(len(pool) / (2 * self.case.workers)))
        while True:
            groups = [tuple(sorted(pool[i:i + size], key=others.index)) for i in range(0, len(pool), size)]
            results = self.trials.run([self.trials.order_plan(g) for g in groups])
            self.log.steps.append(f"{len(groups)} group(s) of up to {size} test(s): "
                                  f"{sum(map(self.trials.failed, results))} fail the victim")
            for group, result in zip(groups, results[:: self.trials.repeat], strict=False):
                if self.trials.failed(result):
                    return group, result
            if size == 1:
                return None
            size = max(1, size // 2)

    # --- evidence ---------------------------------------------------------------------

    def _ranked_leaks(self, result: PlanResult) -> tuple[list[Leak], set[str]]:
        victim = result.result_of(self.victim)
        texts = [victim.message, victim.longrepr] if victim is not None else []
        tokens = tokens_of([*texts, self.case.source])
        return rank(replay_until(result, self.victim).leaks, tokens), tokens

    def _import_candidates(self, result: PlanResult) -> list[str]:
        """The files whose import may break the victim: those the failing run collected."""
        collection = self.case.collection
        victim_file = collection.path_of(self.victim)
        files = files_in_order(collection, [t.nodeid for t in collection.tests])
        ran = files_in_order(collection, result.plan.test_ids)
        broad = result.plan.collect_args != ran  # it collected more than the files of its tests
        return [f for f in files if f != victim_file and (broad or f in set(ran))]

    def _final_run(self, chosen: tuple[str, ...], expect_failure: bool, imports: bool = False) -> PlanResult:
        """The proving run, with state probes on: it names what the chosen tests leave behind."""
        plan = self.trials.import_plan(chosen) if imports else self.trials.order_plan(chosen, state_probes=True)
        result = self.trials.proving_run(plan, expect_failure)
        failed, total = self.trials.failure_rate(plan)
        self.log.steps.append(f"proof: the victim failed in {failed} of {total} run(s) after {', '.join(chosen)}")
        return result

    def _leaks_by(self, result: PlanResult, authors: Sequence[str]) -> list[Leak]:
        ranked, _ = self._ranked_leaks(result)
        return [leak for leak in ranked if any(_made_by(by, authors) for by in leak.changed_by)]

    def _cleaners(self, leaks: Sequence[Leak]) -> tuple[str, ...]:
        """Tests of the given order that put back state the polluters leak."""
        if self.suite_run is None:
            return ()
        keys = {leak.change.key for leak in leaks}
        reverts = replay_until(self.suite_run, self.victim).reverts
        return tuple(dict.fromkeys(test for key, test in reverts if key in keys))

    def _note_failure(self, *results: PlanResult) -> None:
        """Keep the first failure of the victim seen: the one the answer explains."""
        for result in results:
            outcome = result.result_of(self.victim)
            if self.failure is None and outcome is not None and self.trials.failed(result):
                self.failure = outcome

    def _result(self, verdict: BisectVerdict, summary: str) -> BisectResult:
        return BisectResult(victim=self.victim, verdict=verdict, summary=summary, trials=self.trials.count,
                            steps=tuple(self.log.steps), failure=self.failure)


def _made_by(author: str, chosen: Sequence[str]) -> bool:
    return any(author == c or c.startswith(author + "/") or author.startswith(c) for c in chosen)
