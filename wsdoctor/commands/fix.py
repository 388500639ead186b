"""`wsdoctor fix [VICTIM | ID]`: a patch for the polluter, proven before it is shown.

From a bisect's answer (the newest bisect by default; a run's bisects, `run --bisect`, too), the
candidates of wsdoctor.analysis.fix are made (wsdoctor.edits) and proven one after the other in
a scratch copy of the project (wsdoctor.execution.proof): the polluters then the victim pass,
the victim alone passes, the polluters' own files have no new failure, and the failing order as
a whole has no new failure. The first proven candidate is the answer (``--all``: every one).
Nothing is written into the user's tree but wsdoctor's record, unless ``--apply`` is given, and
then only a proven patch, only to files that did not change meanwhile.
"""

from __future__ import annotations

import dataclasses
import posixpath
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from wsdoctor.analysis.fix import (
    CandidatePlan,
    CleanerTeardown,
    Diagnosis,
    ProofPlans,
    candidates,
    describe,
    minimal_subset,
    new_failures,
    no_candidate_reason,
    proof_plans,
    split_nodeid,
    went_wrong,
    wrong_every_time,
)
from wsdoctor.analysis.trials import victim_failed
from wsdoctor.codec import dump_json, write_atomic
from wsdoctor.collect import collect_suite
from wsdoctor.edits import EditError, Project, apply_plan, unified_diff
from wsdoctor.edits.fixtures import cleaner_statements
from wsdoctor.execution.child import ChildSettings
from wsdoctor.execution.files import FileState
from wsdoctor.execution.interpreter import check_interpreter
from wsdoctor.execution.pool import Executor
from wsdoctor.execution.proof import Scratch
from wsdoctor.execution.same_files import FromTheSameFiles
from wsdoctor.execution.trial_runner import load_replays
from wsdoctor.exits import ExitCode, UsageError, fix_exit
from wsdoctor.project_names import ProjectSources
from wsdoctor.records import (
    BisectRecord,
    BisectResult,
    Collection,
    FixCandidate,
    FixResult,
    FixSource,
    Plan,
    PlanResult,
    ProofStep,
    RecordStatus,
    RunRecord,
    Scope,
    Verdict,
)
from wsdoctor.render.fix_view import render_fix
from wsdoctor.store import (
    FIX_FILE,
    bisects_from,
    find_record,
    load_record,
    load_run,
    newest_bisect_of,
    records_dir,
)

JOURNAL_FILE = "journal.jsonl"
VICTIM_PASSES_IN_ORDER = "the victim passes, no new failure"


@dataclass(frozen=True, slots=True)
class FixRequest:
    cwd: Path
    target: str | None = None  # a victim's node id, or a record's id; None: the newest record
    python: str | None = None  # --python: prove on another interpreter
    workers: int = 2
    timeout: float | None = None
    apply: bool = False
    every: bool = False  # --all: prove every candidate


@dataclass(frozen=True, slots=True)
class Patch:
    """A proven candidate's files, and the project's files it was made from (None: a new file)."""

    texts: dict[str, str]
    originals: dict[str, str | None]
    base: Path  # the directory the paths are relative to: the bisect's working directory


@dataclass(frozen=True, slots=True)
class Target:
    """One cause to fix: a finished bisect with its record's directory (its result as its run has it)."""

    record: BisectRecord
    directory: Path
    result: BisectResult


def fix_command(request: FixRequest, out: Console, err: Console) -> ExitCode:
    targets = find_targets(request)
    if request.python is not None:
        check_interpreter(request.python, request.cwd)
    session = FixSession(request, err)
    try:
        results = [session.fix(target) for target in targets]
    except KeyboardInterrupt:
        err.print("interrupted: nothing was written into the project", highlight=False)
        return ExitCode.INTERRUPTED
    finally:
        session.close()
    render_fix(results, out, err, request.every, request.apply)
    if request.apply:
        apply_proven(results, session.patches, err)
    return fix_exit(results)


# --- what to fix ---------------------------------------------------------------------------------


def find_targets(request: FixRequest) -> list[Target]:
    """The causes to fix: a bisect, a run's bisects, or the newest bisect of a victim."""
    cwd = request.cwd
    if request.target is not None and "::" in request.target:
        return [_target_of_victim(cwd, request.target)]
    try:
        path = find_record(cwd, request.target)
    except UsageError:
        if request.target is None or records_dir(cwd) is None or ".py" not in request.target:
            raise
        return [_target_of_victim(cwd, request.target)]  # a test file's node id without "::"
    record = load_record(path)
    if isinstance(record, BisectRecord):
        run = _run_of(cwd, record) if request.target is None else None
        if run is not None and run.bisects:  # the newest is one of a `run --bisect`'s: fix them all
            return _targets_of_run(run, path.parent.parent)
        return [_finished(path.parent, record, record.result)]
    return _targets_of_run(record, path.parent.parent)


def _run_of(cwd: Path, record: BisectRecord) -> RunRecord | None:
    if not record.options.from_run:
        return None
    try:
        return load_run(cwd, record.options.from_run)
    except UsageError:  # the run was removed: the bisect alone, then
        return None


def _target_of_victim(cwd: Path, victim: str) -> Target:
    found = newest_bisect_of(cwd, victim)
    if found is None:
        explained = _explained_in_runs(cwd, victim)
        if explained is not None:
            found = newest_bisect_of(cwd, explained)
    if found is None:
        raise UsageError(f"no bisect of {victim} is recorded here; run `wsdoctor bisect {victim}` first")
    directory, record = found
    return _finished(directory, record, record.result)


def _explained_in_runs(cwd: Path, victim: str) -> str | None:
    """The victim whose bisect explains ``victim`` in the newest run that says so (`run --bisect`)."""
    runs = records_dir(cwd)
    for path in sorted(runs.glob("*/run.json") if runs else (), reverse=True):
        record = load_record(path)
        if isinstance(record, RunRecord):
            for result in record.bisects:
                if result.victim == victim and result.explained_by:
                    return result.explained_by
    return None


def _targets_of_run(run: RunRecord, runs: Path) -> list[Target]:
    bisected = {b.options.victim: b for b in bisects_from(runs, run.id)}
    causes = [result for result in run.bisects if result.explained_by is None]
    targets = [_finished(runs / bisected[result.victim].id, bisected[result.victim], result)
               for result in causes if result.victim in bisected]
    if not targets:
        raise UsageError(f"run {run.id} bisected nothing: `wsdoctor run --bisect` bisects its order-dependent "
                         "tests, or give a victim: `wsdoctor fix VICTIM` after `wsdoctor bisect VICTIM`")
    return targets


def _finished(directory: Path, record: BisectRecord, result: BisectResult | None) -> Target:
    if record.status is not RecordStatus.COMPLETE or result is None or record.collection is None:
        raise UsageError(f"bisect {record.id} of {record.options.victim} did not finish "
                         f"({record.status.value}); `wsdoctor bisect {record.options.victim} --resume` finishes it")
    return Target(record=record, directory=directory, result=result)


def diagnosis_of(target: Target) -> Diagnosis:
    result, record = target.result, target.record
    assert record.collection is not None
    failing = _failing_run(target.directory / JOURNAL_FILE, result.victim)
    return Diagnosis(
        victim=result.victim, victims=(result.victim, *result.explains), polluters=result.polluters,
        scope=result.scope or Scope.TEST, leaks=result.leaked_state, cleaners=result.cleaners,
        collection=record.collection,
        failing_order=failing.plan.test_ids if failing is not None else (),
        failing_collect=failing.plan.collect_args if failing is not None else ())


def _failing_run(journal: Path, victim: str) -> PlanResult | None:
    """The largest trial of the bisect in which the victim failed: the failing order it was found in."""
    runs = [result for results in load_replays(journal).values() for result in results
            if result.plan.test_ids and result.plan.test_ids[-1] == victim and victim_failed(result, victim)]
    return max(runs, key=lambda r: (len(r.plan.test_ids), len(r.plan.collect_args)), default=None)


# --- proving ----------------------------------------------------------------------------------------


@dataclass
class _Copy:
    """The scratch copy of the project, collected, and the children that run there."""

    scratch: Scratch
    collection: Collection
    python_version: str
    runner: FromTheSameFiles
    executor: Executor
    sources: ProjectSources


Judge = Callable[[Sequence[PlanResult]], ProofStep]  # a proof step from its runs (the same plan, once or twice)


class FixSession:
    def __init__(self, request: FixRequest, err: Console) -> None:
        self.request = request
        self.err = err
        self.copy: _Copy | None = None
        self.patches: dict[str, dict[str, Patch]] = {}  # by victim, then by diff: the proven candidates' files

    def say(self, text: str) -> None:
        self.err.print(text, highlight=False, markup=False, soft_wrap=True)

    def close(self) -> None:
        if self.copy is not None:
            self.copy.executor.kill_all()
            self.copy.scratch.remove()

    def fix(self, target: Target) -> FixResult:
        started = time.monotonic()
        result = self._fix(target)
        result = dataclasses.replace(result, seconds=round(time.monotonic() - started, 2))
        write_atomic(target.directory / FIX_FILE, dump_json(result))
        return result

    def _fix(self, target: Target) -> FixResult:
        base = FixResult(victim=target.result.victim, bisect=target.record.id, polluters=target.result.polluters,
                         victims=(target.result.victim, *target.result.explains))
        why = _unfixable(target.result)
        if why:
            self.say(f"fix {target.result.victim}: {why}")
            return dataclasses.replace(base, reason=why)
        diagnosis = diagnosis_of(target)
        plans = candidates(diagnosis, _conftests(diagnosis.polluters, Path(target.record.cwd),
                                                 Path(diagnosis.collection.rootdir)))
        if not plans:  # said before the project is copied: there is nothing to prove
            self.say(f"fix {diagnosis.victim}: {no_candidate_reason(diagnosis)}")
            return dataclasses.replace(base, reason=no_candidate_reason(diagnosis))
        copy = self._copy(target)
        self.say(f"fix {diagnosis.victim} (bisect {target.record.id}): {len(plans)} candidate(s), each proven "
                 f"in a copy of the project ({copy.scratch.root}), Python {copy.python_version}")
        children_before = copy.executor.children_started
        proof = _Proof(self, copy, dataclasses.replace(diagnosis, collection=copy.collection), target)
        reason = proof.reproduces()
        found: list[FixCandidate] = []
        if not reason:
            for number, plan in enumerate(plans, 1):
                if any(c.whole_order for c in found) and not self.request.every:
                    found.append(_untried(plan))
                    continue
                self.say(f"  candidate {number}/{len(plans)} ({plan.source.value}): {plan.title}")
                found.append(proof.prove(plan))
        proven = next((c for c in found if c.proven), None)
        if proven is None and not reason:
            reason = "no candidate was proven: " + "; ".join(f"{c.source.value}: {c.dropped}" for c in found)
        return dataclasses.replace(base, candidates=tuple(found), reason=reason, python=copy.python_version,
                                   order=diagnosis.failing_order, collect=diagnosis.failing_collect,
                                   runs=copy.executor.children_started - children_before)

    def _copy(self, target: Target) -> _Copy:
        if self.copy is not None:
            return self.copy
        record = target.record
        assert record.collection is not None
        options = record.options
        python = self.request.python or _absolute(options.python, Path(record.cwd))
        options = dataclasses.replace(options, python=python,
                                      timeout=self.request.timeout if self.request.timeout is not None
                                      else options.timeout)
        if not Path(record.cwd).is_dir():
            raise UsageError(f"bisect {record.id} ran in {record.cwd}, which is no longer there; bisect again where "
                             "the project is now")
        self.say(f"copying the project to prove the candidates there (never in {record.cwd})")
        scratch = Scratch.of(Path(record.cwd), record.collection.rootdir)
        artifacts = target.directory  # the proof's children are numbered after the bisect's, in children/
        executor = Executor(ChildSettings.of(options, scratch.cwd, artifacts), self.request.workers, None)
        collection, versions = collect_suite(executor, options.paths)
        executor.settings = ChildSettings.of(options, scratch.cwd, artifacts, collection)
        files = FileState.capture(scratch.root, target.directory / "fix-files-left")
        scratch.files = files
        roots = [scratch.cwd, Path(collection.rootdir)]
        self.copy = _Copy(scratch=scratch, collection=collection,
                          python_version=versions.python if versions else "", executor=executor,
                          runner=FromTheSameFiles(executor, files, self.say), sources=ProjectSources(roots))
        return self.copy


def _absolute(python: str, cwd: Path) -> str:
    """The bisect's interpreter as it was given (``.venv/bin/python``), from the bisect's directory."""
    return str(cwd / python) if "/" in python and not Path(python).is_absolute() else python


def _unfixable(result: BisectResult) -> str:
    if result.verdict is Verdict.BRITTLE:
        return ("brittle: it passes only after " + ", ".join(result.state_setters) + "; the patch belongs in the "
                "victim (it should set up what it needs itself), which fix does not write")
    if result.verdict is not Verdict.ORDER_DEPENDENT or not result.polluters:
        return f"the bisect proved no polluter ({result.verdict.value}): nothing to fix"
    return ""


def _conftests(polluters: Sequence[str], cwd: Path, rootdir: Path) -> dict[str, tuple[str, ...]]:
    """Each polluter file's conftest.py files up to the rootdir, the nearest first (paths from ``cwd``)."""
    found = {}
    root = rootdir.resolve()
    for polluter in polluters:
        path = split_nodeid(polluter)[0]
        directory, chain = posixpath.dirname(path), []
        while True:
            candidate = posixpath.join(directory, "conftest.py")
            if (cwd / candidate).is_file():
                chain.append(candidate)
            if not directory or (cwd / directory).resolve() == root:
                break
            directory = posixpath.dirname(directory)
        found[path] = tuple(chain)
    return found


def _untried(plan: CandidatePlan) -> FixCandidate:
    return FixCandidate(title=plan.title, source=plan.source, files=tuple(dict.fromkeys(e.path for e in plan.edits)),
                        diff="", dropped="not tried: an earlier candidate was proven (--all tries every one)")


class _Proof:
    """The proofs of one cause's candidates, in the copy."""

    def __init__(self, session: FixSession, copy: _Copy, diagnosis: Diagnosis, target: Target) -> None:
        self.session = session
        self.copy = copy
        self.diagnosis = diagnosis
        self.plans: ProofPlans = proof_plans(diagnosis)
        self.failing = _failing_run(target.directory / JOURNAL_FILE, diagnosis.victim)
        self.base = Path(target.record.cwd)
        self.control: PlanResult | None = None
        self.own: PlanResult | None = None
        sources = copy.sources
        self.project = Project(read=copy.scratch.read, module_of=lambda name: module_of(name, sources),
                               first_party=lambda top: bool(top) and sources.module_file(top) is not None,
                               module_source=lambda dotted: _text_of(sources.module_file(dotted)),
                               importers=lambda package: _importers(sources, package))

    def reproduces(self) -> str:
        """The copy fails the victim after the polluters, unpatched; the polluters' own files as they are."""
        self.copy.scratch.revert()
        self.control, self.own = self.copy.runner.run([self.plans.polluted, self.plans.own])
        if not victim_failed(self.control, self.diagnosis.victim):
            return ("in a copy of the project the victim does not fail after the polluters "
                    f"({describe(self.control, self.diagnosis.victim)}): no patch can be proven there")
        self.session.say("  the copy reproduces the failure: the victim fails after the polluters")
        return ""

    def prove(self, plan: CandidatePlan) -> FixCandidate:
        started = time.monotonic()
        files = tuple(dict.fromkeys(e.path for e in plan.edits))
        candidate = FixCandidate(title=plan.title, source=plan.source, files=files, diff="", tried=True)
        try:
            if plan.source is FixSource.CLEANER:
                plan = self._minimised(plan)
            texts = apply_plan(plan, self.project)
        except (EditError, _Dropped) as error:
            return self._dropped(candidate, str(error), started)
        except (KeyboardInterrupt, OSError):
            raise
        except Exception as error:  # a bug of ours in one edit: the other candidates are still worth proving
            return self._dropped(candidate, f"internal error of wsdoctor while making the edit, please report "
                                 f"it: {type(error).__name__}: {error}", started)
        candidate = dataclasses.replace(candidate, diff=unified_diff(texts, self.copy.scratch.read),
                                        files=tuple(sorted(texts)))
        steps = self._steps(texts)
        self.copy.scratch.revert()
        failed = [step for step in steps if not step.passed]
        whole = not failed and (self.plans.order is None or steps[-1].detail == VICTIM_PASSES_IN_ORDER)
        candidate = dataclasses.replace(candidate, steps=tuple(steps), proven=not failed, whole_order=whole)
        if failed:
            return self._dropped(candidate, f"{failed[0].name}: {failed[0].detail}", started)
        self.session.say(f"    proven in {time.monotonic() - started:.1f} s" + (
            "" if whole else "; the failing order fails for another cause too: trying the next candidates"))
        originals = {path: self.copy.scratch.read(path) for path in texts}
        self.session.patches.setdefault(self.diagnosis.victim, {})[candidate.diff] = Patch(texts, originals,
                                                                                           self.base)
        return dataclasses.replace(candidate, seconds=round(time.monotonic() - started, 2))

    def _dropped(self, candidate: FixCandidate, why: str, started: float) -> FixCandidate:
        self.session.say(f"    dropped: {why}")
        return dataclasses.replace(candidate, dropped=why, proven=False,
                                   seconds=round(time.monotonic() - started, 2))

    def _steps(self, texts: dict[str, str]) -> list[ProofStep]:
        self.copy.scratch.write(texts)
        victim = self.diagnosis.victim
        steps = self._run_steps([(self.plans.polluted, self._polluted_step),
                                 (self.plans.alone, lambda runs: _alone_step(runs, victim)),
                                 (self.plans.own, lambda runs: _own_step(self.own, runs))])
        if all(step.passed for step in steps) and self.plans.order is not None:
            self.session.say(f"    running the failing order as a whole ({len(self.plans.order.test_ids)} test(s))")
            steps += self._run_steps([(self.plans.order, self._order_step)])
        return steps

    def _run_steps(self, steps: Sequence[tuple[Plan, Judge]]) -> list[ProofStep]:
        """Each step's plan in a child; a step that failed runs once more, and only what went wrong both
        times counts (a failure that does not come back is the machine's, not the patch's)."""
        results = self.copy.runner.run([plan for plan, _ in steps])
        judged = [judge([result]) for (_, judge), result in zip(steps, results, strict=True)]
        again = [index for index, step in enumerate(judged) if not step.passed]
        if again:
            self.session.say("    again, to see whether it comes back: " + ", ".join(judged[i].name for i in again))
            for index, rerun in zip(again, self.copy.runner.run([steps[i][0] for i in again]), strict=True):
                judged[index] = steps[index][1]([results[index], rerun])
        for step in judged:
            self.session.say(f"    {'passed' if step.passed else 'FAILED'}: {step.name}: {step.detail}")
        return judged

    def _polluted_step(self, runs: Sequence[PlanResult]) -> ProofStep:
        name = ("importing the polluters' files, then the victim" if self.diagnosis.scope is Scope.FILE_IMPORT
                else "the polluters, then the victim")
        victims = [v for v in self.diagnosis.victims if v in runs[0].plan.test_ids]
        wrong = wrong_every_time(runs, lambda run: went_wrong(run, victims) + [
            n for n in new_failures(self.control, run) if n not in victims])
        if wrong:
            return ProofStep(name, False, describe(runs[-1], wrong[0]))
        return ProofStep(name, True, f"{len(runs[0].plan.test_ids)} test(s) passed")

    def _order_step(self, runs: Sequence[PlanResult]) -> ProofStep:
        """No new failure in the failing order. The victim may still fail there for another cause (other
        polluters in the same order): the patch is still proven for the cause it is about, and that is said."""
        name = f"the failing order as a whole ({len(runs[0].plan.test_ids)} test(s))"
        victim = self.diagnosis.victim
        wrong = wrong_every_time(runs, lambda run: [n for n in new_failures(self.failing, run) if n != victim])
        if wrong:
            return ProofStep(name, False, describe(runs[-1], wrong[0]))
        if went_wrong(runs[-1], [victim]):
            return ProofStep(name, True, f"no new failure; the victim still fails there "
                             f"({describe(runs[-1], victim)}): another cause is in that order too, bisect it "
                             "again once this patch is in")
        return ProofStep(name, True, VICTIM_PASSES_IN_ORDER)

    def _minimised(self, plan: CandidatePlan) -> CandidatePlan:
        """The fewest of the cleaner's statements that still make the victim pass after the polluters."""
        edit = plan.edits[0]
        assert isinstance(edit, CleanerTeardown)
        path, function = split_nodeid(edit.cleaner)
        text = self.copy.scratch.read(path)
        if text is None:
            raise _Dropped(f"{path} is not in the project")
        count = min(len(cleaner_statements(text, path, function)), 12)
        everything = tuple(range(count))

        def works(subsets: Sequence[tuple[int, ...]]) -> list[bool]:
            return [self._fixes_the_victim(_with_statements(plan, subset)) for subset in subsets]

        if not count or not works([everything])[0]:
            raise _Dropped(f"all of {function}'s statements, as the polluters' teardown, do not make the victim "
                           "pass after them")
        chosen = minimal_subset(everything, works)
        self.session.say(f"    {len(chosen)} of {count} statement(s) of {function} are enough")
        return _with_statements(plan, chosen)

    def _fixes_the_victim(self, plan: CandidatePlan) -> bool:
        try:
            texts = apply_plan(plan, self.project)
        except EditError:
            return False
        self.copy.scratch.write(texts)
        result = self.copy.runner.run([self.plans.polluted])[0]
        self.copy.scratch.revert()
        return self._polluted_step([result]).passed


class _Dropped(Exception):
    """A candidate that cannot be proven: the message says why."""


def _with_statements(plan: CandidatePlan, chosen: tuple[int, ...]) -> CandidatePlan:
    edits = tuple(dataclasses.replace(e, statements=chosen) if isinstance(e, CleanerTeardown) else e
                  for e in plan.edits)
    return dataclasses.replace(plan, edits=edits)


def _alone_step(runs: Sequence[PlanResult], victim: str) -> ProofStep:
    wrong = wrong_every_time(runs, lambda run: went_wrong(run, [victim]))
    return ProofStep("the victim alone", not wrong, describe(runs[-1], victim) if wrong else "passed")


def _own_step(before: PlanResult | None, runs: Sequence[PlanResult]) -> ProofStep:
    name = "the polluters' own files"
    wrong = wrong_every_time(runs, lambda run: new_failures(before, run))
    if wrong:
        return ProofStep(name, False, describe(runs[-1], wrong[0]))
    return ProofStep(name, True, f"{len(runs[0].plan.test_ids)} test(s), no new failure")


def _importers(sources: ProjectSources, package: str) -> list[str]:
    """The texts of the project's modules (not its test files) that import ``package``."""
    paths = [path for path in sources.importers_of(package) if not path.name.startswith(("test_", "conftest"))]
    texts = [_text_of(path) for path in paths]
    return [text for text in texts if text is not None]


def _text_of(path: Path | None) -> str | None:
    try:
        return path.read_text(encoding="utf-8") if path is not None else None
    except (OSError, UnicodeDecodeError):
        return None


def module_of(name: str, sources: ProjectSources) -> tuple[str, tuple[str, ...]]:
    """``app.ws.manager.active_connections`` -> (``app.ws``, (``manager``, ``active_connections``)): the
    longest prefix that is a module of the project; else all but the last name."""
    parts = name.split(".")
    for end in range(len(parts) - 1, 0, -1):
        if sources.module_file(".".join(parts[:end])) is not None:
            return ".".join(parts[:end]), tuple(parts[end:])
    return ".".join(parts[:-1]), tuple(parts[-1:])


# --- the record, and --apply ---------------------------------------------------------------------------


def apply_proven(results: Sequence[FixResult], patches: dict[str, dict[str, Patch]], err: Console) -> None:
    """Write each answer into the project, only if none of its files changed since the copy was made."""
    chosen = [(result, patches[result.victim][result.proven.diff]) for result in results
              if result.proven is not None and result.proven.diff in patches.get(result.victim, {})]
    touched: dict[str, str] = {}
    for result, patch in chosen:
        for relative, original in patch.originals.items():
            if relative in touched:
                raise UsageError(f"the patches for {touched[relative]} and {result.victim} both change {relative}: "
                                 "apply one (`wsdoctor fix VICTIM --apply`), then run fix again for the other")
            touched[relative] = result.victim
            if _current(patch.base / relative) != original:
                raise UsageError(f"{relative} changed while fix ran; nothing was applied: run `wsdoctor fix` again")
    for result, patch in chosen:
        for relative, text in patch.texts.items():
            (patch.base / relative).parent.mkdir(parents=True, exist_ok=True)
            (patch.base / relative).write_text(text, encoding="utf-8")
        err.print(f"applied to {', '.join(sorted(patch.texts))}: the proven patch for {result.victim}",
                  highlight=False, markup=False)


def _current(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
