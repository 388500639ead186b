"""Plans over a pool of children: one child per Plan, continued in a new one after a crash or a hang."""

from __future__ import annotations

import dataclasses
import signal
from collections.abc import Container, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

from wsdoctor.childio import ChildOutput
from wsdoctor.execution.child import ChildSettings, ChildSupervisor, LiveChild, ProgressCallback
from wsdoctor.records import (
    ChildProcess,
    ChildStatus,
    Collection,
    Outcome,
    Plan,
    PlanResult,
    StateChange,
    TestResult,
)
from wsdoctor.text import error_summary, first_line

# A session that stops before finishing any test, child after child (a hook that raises for every
# test), is not continued for ever: after this many in a row, the rest of the plan is not run.
MAX_STALLED_CHILDREN = 2


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C, with what the plans it cut short had finished (each child's finished tests)."""

    def __init__(self, plan_results: list[PlanResult]) -> None:
        super().__init__()
        self.plan_results = plan_results


class Executor:
    def __init__(self, settings: ChildSettings, workers: int,
                 on_test_done: ProgressCallback | None = None, one_after_another: bool = False) -> None:
        self.supervisor = ChildSupervisor(settings, on_test_done, one_after_another)
        self.workers = max(1, workers)

    @property
    def settings(self) -> ChildSettings:
        return self.supervisor.settings

    @settings.setter
    def settings(self, settings: ChildSettings) -> None:
        self.supervisor.settings = settings

    @property
    def on_test_done(self) -> ProgressCallback | None:
        return self.supervisor.on_test_done

    @on_test_done.setter
    def on_test_done(self, callback: ProgressCallback | None) -> None:
        self.supervisor.on_test_done = callback

    @property
    def children_started(self) -> int:
        return self.supervisor.started

    def kill_all(self) -> None:
        self.supervisor.kill_all()

    def collect(self, collect_args: Sequence[str], label: str = "collect",
                randomly_seed: int | None = None) -> tuple[ChildProcess, ChildOutput]:
        """Collect in a child; with a seed, in the order pytest-randomly gives it."""
        extra: tuple[str, ...] = ("--wsdoctor-collect-only",)
        if randomly_seed is not None:
            extra += ("-p", "randomly", f"--randomly-seed={randomly_seed}")
        return self.supervisor.run(label, tuple(collect_args), None, extra)

    def run_plans(self, plans: Iterable[Plan], workers: int | None = None) -> list[PlanResult]:
        """Each plan in children of its own, ``workers`` (default: the executor's) at a time."""
        pool = ThreadPoolExecutor(max_workers=workers or self.workers)
        futures = []
        try:
            futures = [pool.submit(self.run_plan, plan) for plan in plans]
            return [future.result() for future in futures]
        except KeyboardInterrupt:
            # Ctrl-C lands here in the main thread: end the children, then keep what
            # the threads watching them return (each cut-short child's finished tests).
            self.kill_all()
            pool.shutdown(wait=True, cancel_futures=True)
            raise RunInterrupted([f.result() for f in futures
                                  if f.done() and not f.cancelled() and f.exception() is None]) from None
        except BaseException:
            self.kill_all()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def run_plan(self, plan: Plan) -> PlanResult:
        """Run a plan to its end, continuing in a new child after a crash or a hang."""
        return self._run_to_end(plan, None)

    def start_discovering(self, plan: Plan, until: str | None = None) -> LiveChild:
        """Start a child that collects and runs what it collected (in its order, or shuffled by it;
        up to ``until``, when given); see finish_discovering."""
        extra = (f"--wsdoctor-until={until}",) if until is not None else ()
        return self.supervisor.start(plan.label, plan.collect_args, None, (*_child_args(plan), *extra))

    def collected_by(self, started: LiveChild) -> Collection | None:
        """What a discovering child collected, as soon as it says so (see ChildSupervisor.collected_by)."""
        return self.supervisor.collected_by(started)

    def finish_discovering(self, plan: Plan,
                           started: LiveChild) -> tuple[PlanResult, ChildProcess, ChildOutput]:
        """Watch a discovering child to its end: its collection is the suite's.

        This spares a plain run the separate collection child (a second full collection).
        Started and finished apart, so the caller can do its own start-up while the child starts.
        """
        try:
            child, output = self.supervisor.finish(started)
        except KeyboardInterrupt:
            self.kill_all()
            child, output = self.supervisor.result(started, ChildOutput(), killed=True)
            raise RunInterrupted([self._discovered(plan, child, output)]) from None
        return self._discovered(plan, child, output), child, output

    def _discovered(self, plan: Plan, child: ChildProcess, output: ChildOutput) -> PlanResult:
        ids = tuple(t.nodeid for t in output.collected or ())
        return self._run_to_end(dataclasses.replace(plan, test_ids=ids), (child, output))

    def _run_to_end(self, plan: Plan, first: tuple[ChildProcess, ChildOutput] | None) -> PlanResult:
        remaining = plan.test_ids
        results: dict[str, TestResult] = {}
        children: list[ChildProcess] = []
        collect_errors: dict[str, str] = {}
        missing: dict[str, None] = {}
        import_changes: list[StateChange] = []
        stopping = self.supervisor.stopping
        stalled = 0  # children in a row that stopped before finishing a test
        stopped = ""
        while True:
            if first is not None:  # taken in even when interrupted: its finished tests count
                (child, output), first = first, None
            elif remaining and not stopping.is_set() and stalled < MAX_STALLED_CHILDREN:
                suffix = f"#{len(children) + 1}" if children else ""
                child, output = self.supervisor.run(plan.label + suffix, plan.collect_args, remaining,
                                                  _child_args(plan))
            else:
                break
            children.append(child)
            collect_errors.update(output.collect_errors)
            missing.update(dict.fromkeys(output.missing))
            import_changes += output.import_changes if len(children) == 1 else ()
            finished = _results_of(child, output, remaining, stopping.is_set())
            stalled = stalled + 1 if output.stopped and not any(r.outcome is not Outcome.NOT_RUN
                                                                for r in finished.values()) else 0
            stopped = output.stopped or stopped
            results.update(finished)
            remaining = _continuation(child, output, remaining)
        for nodeid in plan.test_ids:
            results.setdefault(nodeid, missing_result(nodeid, collect_errors, missing, stopped))
        ordered = tuple(results[nodeid] for nodeid in plan.test_ids)
        return PlanResult(plan=plan, results=ordered, children=tuple(children),
                          collect_errors=tuple(sorted(collect_errors)), missing=tuple(missing),
                          import_changes=tuple(import_changes))


def by_worker(run: PlanResult, output: ChildOutput) -> list[PlanResult]:
    """A child that ran the suite distributed over xdist workers, as one suite order per worker
    (`suite gw0`, ...): each worker is a process of its own, with its own history, and its order is
    the order to confirm and bisect a victim in. Tests no worker started stay with the first."""
    if not output.worker_orders:
        return [run]
    results = {result.nodeid: result for result in run.results}
    [child] = run.children[:1] or [None]
    split = []
    for worker, order in sorted(output.worker_orders.items()):
        ran = tuple(nodeid for nodeid in order if nodeid in results)
        plan = dataclasses.replace(run.plan, label=f"{run.plan.label} {worker}", test_ids=ran)
        split.append(dataclasses.replace(
            run, plan=plan, results=tuple(results[nodeid] for nodeid in ran),
            children=(dataclasses.replace(child, started=ran),) if child is not None else (),
            import_changes=output.worker_imports.get(worker, ())))
    started = {nodeid for order in output.worker_orders.values() for nodeid in order}
    left = tuple(nodeid for nodeid in run.plan.test_ids if nodeid not in started)
    if left and split:
        first = split[0]
        split[0] = dataclasses.replace(first, plan=dataclasses.replace(first.plan, test_ids=first.plan.test_ids + left),
                                       results=first.results + tuple(results[n] for n in left if n in results))
    return split


def _child_args(plan: Plan) -> tuple[str, ...]:
    probes = ("--wsdoctor-probe",) if plan.state_probes else ()
    return probes + (() if plan.child_shuffle is None else (f"--wsdoctor-shuffle={plan.child_shuffle}",))


def _results_of(child: ChildProcess, output: ChildOutput, ids: Sequence[str],
                interrupted: bool) -> dict[str, TestResult]:
    results = {nodeid: output.results[nodeid] for nodeid in ids if nodeid in output.results}
    victim = _unfinished(output)
    if victim is None or interrupted:
        return results
    if child.status is not ChildStatus.COMPLETED:
        hung = child.status in (ChildStatus.HUNG, ChildStatus.KILLED)
        outcome = Outcome.HANG if hung else Outcome.CRASH
        message = _hang_message(child) if hung else _death_message(child)
        results[victim] = TestResult(nodeid=victim, outcome=outcome, message=message,
                                     longrepr=child.hang_dump or child.stderr_tail)
    elif output.stopped:  # the session ended under it, not the test: it has no outcome
        results[victim] = TestResult(nodeid=victim, outcome=Outcome.NOT_RUN,
                                     message=f"did not finish: {output.stopped}")
    return results


def _continuation(child: ChildProcess, output: ChildOutput, ids: Sequence[str]) -> tuple[str, ...]:
    """The ids still to run after a child died under a test, or its session stopped before its tests
    did (INTERNALERROR, a test raising KeyboardInterrupt); () when there is nothing to do."""
    ended_early = child.status is not ChildStatus.COMPLETED or output.stopped
    if not ended_early or not output.started:  # nothing started: a new child would end the same way
        return ()
    done = set(output.started)
    return tuple(nodeid for nodeid in ids if nodeid not in done)


def _unfinished(output: ChildOutput) -> str | None:
    if output.started and output.started[-1] not in output.results:
        return output.started[-1]
    return None


def missing_result(nodeid: str, collect_errors: dict[str, str], missing: Container[str] = (),
                   stopped: str = "") -> TestResult:
    """The result of a test its child never ran: an error if its file failed to collect there;
    not run, and why when it is known (its child collected no test with this id, or its session stopped)."""
    path = nodeid.split("::", 1)[0]
    for collector, message in collect_errors.items():
        if collector and (path == collector or path.startswith(collector.rstrip("/") + "/")):
            return TestResult(nodeid=nodeid, outcome=Outcome.ERROR,
                              message=f"collection of {collector} failed: {error_summary(message)}",
                              longrepr=message)
    if nodeid in missing:
        why = "not collected: the child found no test with this id"
    elif stopped:
        why = f"never started: {stopped}"
    else:
        why = ""
    return TestResult(nodeid=nodeid, outcome=Outcome.NOT_RUN, message=why)


def _hang_message(child: ChildProcess) -> str:
    if child.status is ChildStatus.KILLED:
        return "no progress within the timeout: killed by wsdoctor"
    return first_line(child.hang_dump) or "timed out"


def _death_message(child: ChildProcess) -> str:
    code = child.exit_code
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the test process died with {name}"
    return f"the test process exited with code {code} in the middle of this test"
