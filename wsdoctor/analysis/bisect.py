"""The bisect strategy: from a victim and a failing order to a proven culprit and its leaked state.

1. Confirm, each in a fresh child: the victim in the given order, and alone. It fails alone
   only sometimes: ``flaky``; it fails alone and passes in the order: ``brittle``, and the
   *state-setters* it needs are searched for; it fails alone and in the order: the orders that
   could put a setter first (all other tests before it; reversed) are tried before saying
   ``fails-alone``.
2. When it passes in the given order, look for an order that fails it: all other tests before
   it, then reversed, then rounds of smaller groups in parallel (suspects spread over the
   groups, neighbours in the suite in different ones), so that a cleaner lands in another group
   than its polluter; none within its share of the budget: ``not-reproduced``, with what was
   tried.
3. Search the minimal set (wsdoctor.analysis.search): imports first when the evidence points at
   a file, or when no test ran before the victim; evidence (suspects) first; else halves, and
   prefixes for a conjunction. A test found
   without evidence that could be its file's import is checked as an import. When the answer is
   several tests, part of the budget goes to checking whether one test suffices.
4. Prove it (the victim fails after the culprits, with state probes on) and name the leaked
   state, most relevant first, and the tests of the order that put it back (cleaners).

Every search has a budget of trials (wsdoctor.analysis.trials.default_run_budget) and the runner
a budget of time; either running out, or an internal error, ends the bisect with the best
proven answer so far (the fewest tests seen failing the victim, which passes alone) or
``not-reproduced``, with the steps that were taken. The same answers make the same questions:
nothing here depends on a clock, a random choice or the order of a set.

Written against wsdoctor.analysis.trials.PlanRunner: no process, no file, no clock here.
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from wsdoctor.analysis.leaks import Leak, rank, replay_until, suspects, tokens_of
from wsdoctor.analysis.search import BudgetSpent, SearchExhausted, SearchLog, find_minimal_set
from wsdoctor.analysis.trials import Trials
from wsdoctor.analysis.verdicts import CommandStyle
from wsdoctor.planner import files_in_order, in_collection_order
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
ORDER_SEARCH_SHARE = 2  # looking for a failing order may take 1/2 of the budget of trials
SMALLER_SEARCH_SHARE = 4  # checking whether one test suffices, 1/4 of what is left
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
        self.passes_alone = False  # proven by the confirming runs

    def run(self) -> BisectResult:
        self.say(f"bisecting {self.victim}: confirming that it fails in the given order "
                 f"({len(self.case.order)} test(s) before it) and passes alone")
        try:
            return self._diagnose()
        except SearchExhausted as stop:
            self.log.steps.append(f"stopped: {stop}")
            return self._best_so_far(f"the search stopped: {stop}")
        except Exception as error:  # a bug of ours: what the search learnt is still worth keeping
            self.log.steps.append(f"internal error in the search: {_described(error)}")
            return self._best_so_far("the search stopped on an internal error of wsdoctor (please report it)")

    def _diagnose(self) -> BisectResult:
        in_order, alone = self._confirm()
        self.suite_run = in_order[0]
        order_failures = sum(map(self.trials.failed, in_order))
        alone_failures = sum(map(self.trials.failed, alone))
        self.passes_alone = alone_failures == 0
        self._note_failure(*in_order, *alone)
        repeat = len(alone)
        if alone_failures == repeat and order_failures == repeat:
            return self._fails_in_every_order()
        if 0 < alone_failures < repeat:
            return self._result(Verdict.FLAKY, f"alone it failed {alone_failures} of {repeat} runs")
        if alone_failures == repeat:
            return self._search_state_setters(self.case.order, in_order[0])
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
        # With no test before the victim, what it ran after differs from its run alone only in
        # the files collected: their imports are searched, evidence or not.
        if file_hints or (files and not order):
            found = self._search_imports(files, file_hints)
            if found:
                return self._polluted(found, Scope.FILE_IMPORT, detail)
        self.say(f"searching {len(order)} test(s) for the minimal set of polluters")
        # The confirming run just failed after all of `order`; should the narrower collection
        # of the search runs not fail, the search finds out and says so.
        polluters = find_minimal_set(order, self.trials.tests_fail, self.case.workers, test_hints, self.log)
        if len(polluters) == 1 and polluters[0] not in test_hints and not file_hints:
            imported = self._its_import_is_enough(polluters[0], order)
            if imported:
                return self._polluted(imported, Scope.FILE_IMPORT, detail)
        if len(polluters) > 1:
            polluters = self._smaller_explanation(polluters, probe_run)
        return self._polluted(polluters, Scope.TEST if len(polluters) == 1 else Scope.TESTS, detail)

    def _search_imports(self, files: list[str], hints: list[str]) -> tuple[str, ...]:
        self.say(f"checking whether importing one of {len(files)} file(s) is enough to break the victim")
        try:
            return find_minimal_set(files, self.trials.imports_fail, self.case.workers, hints,
                                    self.log, known_to_fail=False)
        except BudgetSpent:
            raise
        except SearchExhausted as stop:
            self.log.steps.append(f"collecting the other files without running their tests does not "
                                  f"fail the victim ({stop}): the polluter is a test")
            return ()

    def _its_import_is_enough(self, test: str, order: Sequence[str]) -> tuple[str, ...]:
        """Its file, if importing that file is what breaks the victim.

        Found without evidence, a test that is the first of its file among the candidates may
        only stand for the file's import: every set holding a test of that file collected it.
        A later test of the file cannot: the earlier one would have been found first.
        """
        path = self.case.collection.path_of(test)
        first_of_file = next(t for t in order if self.case.collection.path_of(t) == path)
        if path == self.trials.victim_file or first_of_file != test:
            return ()
        imported = self.trials.imports_fail([(path,)])[0]
        self.log.steps.append(f"importing {path} alone, without running its tests, "
                              f"{'fails' if imported else 'does not fail'} the victim")
        return (path,) if imported else ()

    def _smaller_explanation(self, found: tuple[str, ...], probe_run: PlanResult) -> tuple[str, ...]:
        """One test that breaks the victim alone, if the budget finds one; else ``found``.

        The failing order may hide a single polluter behind a cleaner and fail through a
        conjunction instead: disjoint groups of the other tests run before the victim, in
        parallel, and a group that fails is searched.
        """
        left = self.trials.left()
        allowed = None if left is None else max(0, left // SMALLER_SEARCH_SHARE)
        others = [t for t in self._others() if t not in found]
        self.say(f"{len(found)} tests are needed together: checking whether one test suffices")
        try:
            # The prefix search never ran an earlier member alone: it may suffice (a cleaner
            # between it and the last member can hide it in the order searched).
            alone = [member for member, failed in zip(found, self.trials.tests_fail([(m,) for m in found]),
                                                       strict=True) if failed]
            if alone:
                self.log.steps.append(f"smaller explanation: {alone[0]} alone is enough; also proven, larger: "
                                      f"{', '.join(found)} together")
                return (alone[0],)
            group = self._failing_group(others, probe_run, allowed, rounds=2)
            if group is not None:
                smaller = find_minimal_set(group[0], self.trials.tests_fail, self.case.workers,
                                           self._hints(group[1], group[0]), self.log)
                if len(smaller) < len(found):
                    self.log.steps.append(f"smaller explanation: {', '.join(smaller)}; also proven, larger: "
                                          f"{', '.join(found)} together")
                    return smaller
        except SearchExhausted as stop:
            self.log.steps.append(f"checking for a smaller explanation stopped: {stop}")
            return found
        self.log.steps.append(f"no smaller explanation found: {', '.join(found)} together")
        return found

    def _polluted(self, polluters: tuple[str, ...], scope: Scope, detail: str) -> BisectResult:
        victim = self.victim
        imports = scope is Scope.FILE_IMPORT
        final = self._final_run(polluters, expect_failure=True, imports=imports)
        failed, total = self.trials.failure_rate(final.plan)
        what = "importing " + ", ".join(polluters) if imports else ", ".join(polluters)
        if not self.trials.failed(final):  # seen failing only while other trials ran beside it
            return self._result(Verdict.FLAKY, f"{victim} failed after {what} only while other trials ran beside "
                                               "it, and passed after them alone in the machine: the trials may have "
                                               "disturbed each other (a fixed port, a file, a database), so no test "
                                               "is blamed")
        leaks = self._leaks_by(final, polluters)
        return dataclasses.replace(
            self._result(Verdict.ORDER_DEPENDENT, f"{victim} fails after {what}"),
            polluters=polluters, scope=scope, leaked_state=tuple(leak.change for leak in leaks),
            confidence=Confidence.HIGH if total and failed == total else Confidence.MEDIUM,
            confidence_detail=f"failed in {failed} of {total} run(s) after the polluters; {detail}",
            cleaners=self._cleaners(leaks, polluters),
            reproduce=_with_files_left(self._polluted_commands(polluters, imports), leaks))

    def _polluted_commands(self, polluters: tuple[str, ...], imports: bool) -> tuple[str, str]:
        return culprit_commands(self.victim, polluters, imports, self.case.collection, self.case.style)

    def _best_so_far(self, why: str) -> BisectResult:
        """The fewest tests seen failing the victim, which passes alone: proven, maybe not minimal."""
        best = self.trials.smallest_failing
        polluters = best.plan.test_ids[:-1] if best is not None else ()
        if best is None or not self.passes_alone or len(polluters) >= len(self._others()) \
                or polluters == self.case.order:  # nothing narrowed down
            return self._result(Verdict.NOT_REPRODUCED, why)
        self.log.steps.append(f"best proven answer: the victim failed after these {len(polluters)} test(s)")
        self._note_failure(best)
        leaks = self._leaks_by(best, polluters) if best.plan.state_probes else []
        return dataclasses.replace(
            self._result(Verdict.ORDER_DEPENDENT, f"{self.victim} fails after {len(polluters)} test(s), "
                                                  f"not narrowed down further: {why}"),
            polluters=polluters, scope=Scope.TEST if len(polluters) == 1 else Scope.TESTS,
            leaked_state=tuple(leak.change for leak in leaks), confidence=Confidence.LOW,
            confidence_detail="proven by one failing run; the set may not be minimal",
            reproduce=self._polluted_commands(polluters, imports=False))

    # --- state-setters --------------------------------------------------------------------

    def _fails_in_every_order(self) -> BisectResult:
        """Fails alone and in the given order: the orders that could put a setter first, first."""
        others = tuple(self._others())
        attempts = [(description, attempt) for description, attempt in self._whole_orders(others)
                    if attempt != self.case.order]
        if not attempts:
            return self._result(Verdict.FAILS_ALONE, f"{self.victim} fails alone too: no other test is to blame")
        self.say(f"{self.victim} fails alone and in the given order: trying the orders that could "
                 "put a state-setter before it")
        results = self.trials.run([self.trials.order_plan(a, state_probes=True) for _, a in attempts])
        runs = results[:: self.trials.repeat]
        for (description, attempt), result in zip(attempts, runs, strict=True):
            passed = not self.trials.failed(result)
            self.log.steps.append(f"{description}: victim {'passes' if passed else 'fails'}")
            if passed:
                return self._search_state_setters(attempt, result)
        return self._result(Verdict.FAILS_ALONE, f"{self.victim} fails alone too, and after every other test "
                            "in either order: no other test is to blame")

    def _search_state_setters(self, order: tuple[str, ...], passing_run: PlanResult) -> BisectResult:
        victim = self.victim
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
        others = self._others()
        left = self.trials.left()
        allowed = None if left is None else left // ORDER_SEARCH_SHARE
        spent = self.trials.count
        for description, attempt in self._whole_orders(tuple(others)):
            if allowed is not None and self.trials.count - spent + self.trials.repeat > allowed:
                break
            result = self.trials.run([self.trials.order_plan(attempt, state_probes=True)])[0]
            failed = self.trials.failed(result)
            self.log.steps.append(f"{description}: victim {'fails' if failed else 'passes'}")
            if failed:
                return self._search_polluters(attempt, result, f"found by running {description}")
        rest = None if allowed is None else allowed - (self.trials.count - spent)
        found = self._failing_group(others, passing_run, rest)
        if found is None:
            return self._result(Verdict.NOT_REPRODUCED, f"no order tried within the budget fails {victim}")
        group, result = found
        return self._search_polluters(group, result, "found in a group of tests run before it")

    def _whole_orders(self, others: tuple[str, ...]) -> list[tuple[str, tuple[str, ...]]]:
        return [("all other tests before it", others), ("all other tests, reversed, before it", others[::-1])]

    def _failing_group(self, others: list[str], probe_run: PlanResult, allowed: int | None,
                       rounds: int | None = None) -> tuple[tuple[str, ...], PlanResult] | None:
        """A group of ``others`` after which the victim fails, from rounds of smaller groups run
        in parallel; at most ``allowed`` trials, and ``rounds`` rounds. None: no group did.

        The groups of a round are filled in turn, one test each, suspects first: neighbours in
        the suite (a polluter and the test after it that cleans up) land in different groups,
        and so do suspects (a polluter and a cleaner both change the state the victim reads).
        Each group runs in suite order.
        """
        pool = self._suspects_first(others, probe_run)
        position = {test: index for index, test in enumerate(others)}
        count = 2 * max(1, self.case.workers)
        spent, done = 0, 0
        while rounds is None or done < rounds:
            count = min(count, len(pool))
            if not count or (allowed is not None and spent + count * self.trials.repeat > allowed):
                self.log.steps.append(f"no more rounds of groups within the budget ({spent} trial(s) spent on them)")
                return None
            groups = [tuple(sorted(pool[i::count], key=position.__getitem__)) for i in range(count)]
            results = self.trials.run([self.trials.order_plan(g) for g in groups])
            spent, done = spent + len(results), done + 1
            firsts = results[:: self.trials.repeat]
            self.log.steps.append(f"{len(groups)} group(s) of up to {len(groups[0])} test(s): "
                                  f"{sum(map(self.trials.failed, firsts))} fail the victim")
            for group, result in zip(groups, firsts, strict=True):
                if self.trials.failed(result):
                    return group, result
            if count == len(pool):
                return None
            count *= 2
        return None

    def _suspects_first(self, others: list[str], probe_run: PlanResult) -> list[str]:
        """``others``, the tests the evidence points at first; a file it points at stands for its
        tests (running them imports it)."""
        ranked, tokens = self._ranked_leaks(probe_run)
        known = set(others)
        first: dict[str, None] = {}
        for suspect in suspects(ranked, tokens, len(others)):
            if suspect in known:
                first.setdefault(suspect, None)
            else:
                first.update(dict.fromkeys(t for t in others if self.case.collection.path_of(t) == suspect))
        return [*first, *(t for t in others if t not in first)]

    # --- evidence ---------------------------------------------------------------------

    def _others(self) -> list[str]:
        return [t.nodeid for t in self.case.collection.tests if t.nodeid != self.victim]

    def _ranked_leaks(self, result: PlanResult) -> tuple[list[Leak], set[str]]:
        victim = result.result_of(self.victim)
        texts = [victim.message, victim.longrepr] if victim is not None else []
        tokens = tokens_of([*texts, self.case.source])
        return rank(replay_until(result, self.victim).leaks, tokens), tokens

    def _hints(self, result: PlanResult, candidates: Sequence[str]) -> list[str]:
        ranked, tokens = self._ranked_leaks(result)
        allowed = set(candidates)
        return [s for s in suspects(ranked, tokens, SUSPECTS_TRIED) if s in allowed]

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

    def _cleaners(self, leaks: Sequence[Leak], polluters: Sequence[str]) -> tuple[str, ...]:
        """Tests that put back state the polluters leak, in any probed run of this bisect before the
        victim: the given order's, and those of the orders tried (the failing order may have been
        built, and its cleaners then ran only in the orders that passed)."""
        keys = {leak.change.key for leak in leaks}
        found: dict[str, None] = {}
        for run in self._probed_runs():
            found.update((test, None) for key, test in replay_until(run, self.victim).reverts
                         if key in keys and test not in polluters)
        return tuple(found)

    def _probed_runs(self) -> list[PlanResult]:
        seen = [result for results in self.trials.seen.values() for result in results]
        runs = {id(run): run for run in [*([self.suite_run] if self.suite_run else []), *seen]}
        return [run for run in runs.values() if run.plan.state_probes and self.victim in run.plan.test_ids]

    def _note_failure(self, *results: PlanResult) -> None:
        """Keep the first failure of the victim seen: the one the answer explains."""
        for result in results:
            outcome = result.result_of(self.victim)
            if self.failure is None and outcome is not None and self.trials.failed(result):
                self.failure = outcome

    def _result(self, verdict: BisectVerdict, summary: str) -> BisectResult:
        return BisectResult(victim=self.victim, verdict=verdict, summary=summary, trials=self.trials.count,
                            steps=tuple(self.log.steps), failure=self.failure)


def culprit_commands(victim: str, polluters: Sequence[str], imports: bool, collection: Collection,
                     style: CommandStyle) -> tuple[str, str]:
    """Two plain-pytest commands: the victim fails after the polluters (or their files' import),
    and passes alone.

    A polluting file is named by a node id of one of its tests, deselected: pytest imports the
    file of a node id before a bare file path given on the same command line, whatever their
    order, so a bare path would be imported after the victim's file; node ids are imported in
    the order they are given.
    """
    pytest = style.pytest
    if not imports:
        return pytest(*polluters, victim) + "  # fails", pytest(victim) + "  # passes"
    victim_file = collection.path_of(victim)
    files = in_collection_order(collection, [*polluters, victim_file])
    standing_in = {path: _first_test_of(path, collection) for path in polluters}
    collected = [victim if f == victim_file else standing_in[f] for f in files]
    deselect = [arg for f in polluters for arg in ("--deselect", standing_in[f])]
    return pytest(*collected, *deselect) + "  # fails: importing is enough", pytest(victim) + "  # passes"


def _first_test_of(path: str, collection: Collection) -> str:
    """A node id that makes pytest import ``path`` (the path itself when no test of it was collected)."""
    return next((t.nodeid for t in collection.tests if t.path == path), path)


def _with_files_left(commands: tuple[str, str], leaks: Sequence[Leak]) -> tuple[str, str]:
    """The failing command changes files the passing one must find as they were: say which, and what
    puts each back (a file it made is deleted; one it rewrote or deleted is restored)."""
    files = [leak.change for leak in leaks if leak.change.kind == "file"]
    made = [change.name for change in files if change.before is None and change.after is not None]
    changed = [change.name for change in files if change.before is not None]
    if not files:
        return commands
    failing, passing = commands
    undo = [f"it leaves {', '.join(made)} behind: delete before the next command"] if made else []
    undo += [f"it changes {', '.join(changed)}: restore before the next command (e.g. git checkout or "
             "git stash)"] if changed else []
    return f"{failing}; {'; '.join(undo)}", passing


def _made_by(author: str, chosen: Sequence[str]) -> bool:
    return any(author == c or c.startswith(author + "/") or author.startswith(c) for c in chosen)


def _described(error: Exception) -> str:
    """The error and where it was raised, in one line: enough to report the bug."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" (at {frames[-1].filename.rsplit('wsdoctor/', 1)[-1]}:{frames[-1].lineno})" if frames else ""
    return f"{type(error).__name__}: {error}{where}"
