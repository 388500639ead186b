"""The only user of subprocess: one child pytest per RunPlan, in a pool of workers.

Children get their test ids through a file and report through files
(see wsdoctor.plugin); each runs in its own process group, so a timeout or an
interrupt ends the child and everything it started.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import select
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from wsdoctor import protocol
from wsdoctor.childio import ChildOutput, EventTail, apply_event, error_summary, read_child_dir
from wsdoctor.errors import UsageError
from wsdoctor.records import (
    ChildRun,
    ChildStatus,
    Outcome,
    PlanRun,
    RunPlan,
    StateChange,
    TestResult,
    Versions,
)

CHILD_FILES = ("__init__.py", "plugin.py", "probes.py", "protocol.py")
COLLECTION_SILENCE_LIMIT = 600.0  # seconds without any event while collecting
HANG_GRACE = 15.0  # faulthandler should end a hung child first; we are the backstop
POLL_INTERVAL = 0.05  # seconds between looks at a running child's events
STDERR_TAIL = 4000

ProgressCallback = Callable[[str, Outcome], None]
MIN_PYTHON = (3, 9)
MIN_PYTEST = (7, 0)
_PROBE = ("import platform, sys, pytest; "
          "print(platform.python_version(), pytest.__version__, platform.platform(), sys.executable)")


def probe_python(python: str, cwd: Path) -> Versions:
    """Check that ``python`` runs and has a pytest wsdoctor's child plugin supports."""
    hint = "point --python at your project's interpreter, e.g. .venv/bin/python"
    try:
        done = subprocess.run([python, "-c", _PROBE], cwd=cwd, capture_output=True, text=True,
                              timeout=120, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise UsageError(f"--python {python} cannot be run ({error}); {hint}") from None
    if done.returncode != 0:
        raise UsageError(f"--python {python} has no importable pytest; install pytest there or {hint}")
    python_version, pytest_version, platform_name, executable = done.stdout.split()[:4]
    if _version_tuple(python_version) < MIN_PYTHON or _version_tuple(pytest_version) < MIN_PYTEST:
        raise UsageError(f"--python {python} has Python {python_version} with pytest {pytest_version}; "
                         "wsdoctor's child plugin needs Python 3.9+ and pytest 7.0+")
    return Versions(python=python_version, pytest=pytest_version, platform=platform_name,
                    executable=executable)


def _version_tuple(text: str) -> tuple[int, ...]:
    numbers = []
    for part in text.split(".")[:2]:
        digits = "".join(c for c in part if c.isdigit())
        numbers.append(int(digits or 0))
    return tuple(numbers)


@dataclass(frozen=True, slots=True)
class ChildSettings:
    """What every child of one wsdoctor invocation shares."""

    python: str
    cwd: Path
    pytest_args: tuple[str, ...]
    timeout: float
    artifacts: Path  # where each child gets a directory of its own
    rootdir: str | None = None
    inifile: str | None = None


def stage_child_package(target: Path) -> Path:
    """Copy the child-side modules into a directory of their own for PYTHONPATH.

    Putting wsdoctor's own site-packages on the child's path would shadow the
    user's pytest and plugins with ours; this directory holds nothing else.
    """
    package = target / "wsdoctor"
    package.mkdir(parents=True, exist_ok=True)
    source = Path(protocol.__file__).parent
    for name in CHILD_FILES:
        shutil.copyfile(source / name, package / name)
    return target


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C, with what the plan runs it cut short had finished (each child's finished tests)."""

    def __init__(self, runs: list[PlanRun]) -> None:
        super().__init__()
        self.runs = runs


@dataclass(frozen=True, slots=True)
class StartedChild:
    """A child pytest that was started and is not yet watched."""

    proc: subprocess.Popen[bytes]
    directory: Path
    started: float  # time.monotonic() at its start


class Executor:
    def __init__(self, settings: ChildSettings, workers: int,
                 on_test_done: ProgressCallback | None = None) -> None:
        self.settings = settings
        self.workers = max(1, workers)
        self.on_test_done = on_test_done
        self.children_started = 0
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen[bytes]] = set()
        self._stopping = threading.Event()
        self._child_path = stage_child_package(settings.artifacts / "child-path")

    # --- public -------------------------------------------------------------

    def collect(self, collect_args: Sequence[str], label: str = "collect",
                randomly_seed: int | None = None) -> tuple[ChildRun, ChildOutput]:
        """Collect in a child; with a seed, in the order pytest-randomly gives it."""
        extra: tuple[str, ...] = ("--collect-only",)
        if randomly_seed is not None:
            extra += ("-p", "randomly", f"--randomly-seed={randomly_seed}")
        return self._run_child(label, tuple(collect_args), None, extra)

    def run_plans(self, plans: Iterable[RunPlan]) -> list[PlanRun]:
        pool = ThreadPoolExecutor(max_workers=self.workers)
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

    def run_plan(self, plan: RunPlan) -> PlanRun:
        """Run a plan to its end, continuing in a new child after a crash or a hang."""
        return self._run_to_end(plan, None)

    def start_discovering(self, plan: RunPlan) -> StartedChild:
        """Start a child that collects and runs in collection order; see finish_discovering."""
        return self._start_child(plan.label, plan.collect_args, None, _probe_args(plan))

    def finish_discovering(self, plan: RunPlan,
                           started: StartedChild) -> tuple[PlanRun, ChildRun, ChildOutput]:
        """Watch a discovering child to its end: its collection is the suite's.

        This spares a plain run the separate collection child (a second full collection).
        Started and finished apart, so the caller can do its own start-up while the child starts.
        """
        try:
            child, output = self._finish_child(started)
        except KeyboardInterrupt:
            self.kill_all()
            child, output = self._child_result(started, ChildOutput(), killed=True)
            raise RunInterrupted([self._discovered(plan, child, output)]) from None
        return self._discovered(plan, child, output), child, output

    def _discovered(self, plan: RunPlan, child: ChildRun, output: ChildOutput) -> PlanRun:
        ids = tuple(t.nodeid for t in output.collected or ())
        return self._run_to_end(dataclasses.replace(plan, test_ids=ids), (child, output))

    def _run_to_end(self, plan: RunPlan, first: tuple[ChildRun, ChildOutput] | None) -> PlanRun:
        remaining = plan.test_ids
        results: dict[str, TestResult] = {}
        children: list[ChildRun] = []
        collect_errors: dict[str, str] = {}
        import_changes: list[StateChange] = []
        while True:
            if first is not None:  # taken in even when interrupted: its finished tests count
                (child, output), first = first, None
            elif remaining and not self._stopping.is_set():
                suffix = f"#{len(children) + 1}" if children else ""
                child, output = self._run_child(plan.label + suffix, plan.collect_args, remaining,
                                                _probe_args(plan))
            else:
                break
            children.append(child)
            collect_errors.update(output.collect_errors)
            import_changes += output.import_changes if len(children) == 1 else ()
            results.update(_results_of(child, output, remaining, self._stopping.is_set()))
            remaining = _continuation(child, output, remaining)
        for nodeid in plan.test_ids:
            results.setdefault(nodeid, missing_result(nodeid, collect_errors))
        ordered = tuple(results[nodeid] for nodeid in plan.test_ids)
        return PlanRun(plan=plan, results=ordered, children=tuple(children),
                       collect_errors=tuple(sorted(collect_errors)), import_changes=tuple(import_changes))

    def kill_all(self) -> None:
        self._stopping.set()
        with self._lock:
            live = list(self._live)
        for proc in live:
            _kill_group(proc)

    # --- one child ------------------------------------------------------------

    def _run_child(self, label: str, collect_args: tuple[str, ...], ids: Sequence[str] | None,
                   extra: tuple[str, ...]) -> tuple[ChildRun, ChildOutput]:
        return self._finish_child(self._start_child(label, collect_args, ids, extra))

    def _start_child(self, label: str, collect_args: tuple[str, ...], ids: Sequence[str] | None,
                     extra: tuple[str, ...]) -> StartedChild:
        directory = self._new_child_dir(label)
        command = self._command(directory, collect_args, ids, extra)
        started = time.monotonic()
        with (directory / "stdout.txt").open("wb") as out, (directory / "stderr.txt").open("wb") as err:
            proc = subprocess.Popen(command, cwd=self.settings.cwd, env=self._environment(),
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    start_new_session=True)
        with self._lock:
            self._live.add(proc)
        return StartedChild(proc=proc, directory=directory, started=started)

    def _finish_child(self, child: StartedChild) -> tuple[ChildRun, ChildOutput]:
        proc = child.proc
        tail = EventTail(child.directory / protocol.EVENTS_FILE)
        output = ChildOutput()
        try:
            killed = self._watch(proc, tail, output)
        finally:
            _kill_group(proc)  # whatever the tests started in the child's group goes too
            _reap(proc)  # also when Ctrl-C lands here: a child never waited for stays a zombie
            with self._lock:
                self._live.discard(proc)
        return self._child_result(child, output, killed, tail)

    def _child_result(self, child: StartedChild, output: ChildOutput, killed: bool,
                      tail: EventTail | None = None) -> tuple[ChildRun, ChildOutput]:
        """What an ended child left: its events (continuing ``tail``), report and files."""
        proc, directory = child.proc, child.directory
        output = read_child_dir(directory, self.settings.cwd, output, tail)
        run = ChildRun(status=_status(proc.returncode, output, killed), exit_code=proc.returncode,
                       seconds=round(time.monotonic() - child.started, 3), artifacts=str(directory),
                       started=tuple(output.started), hang_dump=output.hang_dump,
                       stderr_tail=_tail(directory / "stderr.txt"))
        return run, output

    def _new_child_dir(self, label: str) -> Path:
        with self._lock:
            self.children_started += 1
            number = self.children_started
        directory = self.settings.artifacts / "children" / f"{number:04d}-{_slug(label)}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "label.txt").write_text(label + "\n", encoding="utf-8")
        return directory

    def _command(self, directory: Path, collect_args: tuple[str, ...], ids: Sequence[str] | None,
                 extra: tuple[str, ...]) -> list[str]:
        s = self.settings
        randomly = () if "--randomly-seed" in " ".join(extra) else ("-p", "no:randomly")
        command = [s.python, "-m", "pytest", "-p", "wsdoctor.plugin", *randomly,
                   "--continue-on-collection-errors", f"--wsdoctor-out={directory}",
                   f"--wsdoctor-timeout={s.timeout}", f"-o=cache_dir={directory / 'cache'}"]
        if ids is not None:
            (directory / "ids.txt").write_text("".join(i + "\n" for i in ids), encoding="utf-8")
            command.append(f"--wsdoctor-ids={directory / 'ids.txt'}")
        if s.rootdir:
            command.append(f"--rootdir={s.rootdir}")
        if s.inifile:
            command += ["-c", s.inifile]
        return command + list(extra) + list(s.pytest_args) + list(collect_args)

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(self._child_path), env.get("PYTHONPATH", "")) if p)
        env.pop("PYTEST_CURRENT_TEST", None)
        return env

    def _watch(self, proc: subprocess.Popen[bytes], tail: EventTail, output: ChildOutput) -> bool:
        """Wait for the child, reporting progress; True if we had to kill it."""
        last_event = time.monotonic()
        with _ExitWaiter(proc) as waiter:
            while not waiter.exited(POLL_INTERVAL):
                if self._drain(tail, output):
                    last_event = time.monotonic()
                if self._stopping.is_set() or self._silent_too_long(output, last_event):
                    _kill_group(proc)
                    proc.wait()
                    return True
        self._drain(tail, output)
        return False

    def _drain(self, tail: EventTail, output: ChildOutput) -> bool:
        """Apply the child's new events, reporting finished tests; True if there were any."""
        events = tail.read_new()
        for event in events:
            apply_event(output, event, self.settings.cwd)
            if event["event"] == "test" and self.on_test_done:
                result = output.results[event["test"]["nodeid"]]
                self.on_test_done(result.nodeid, result.outcome)
        return bool(events)

    def _silent_too_long(self, output: ChildOutput, last_event: float) -> bool:
        if self.settings.timeout <= 0:
            return False
        limit = COLLECTION_SILENCE_LIMIT if output.collected is None else self.settings.timeout + HANG_GRACE
        return time.monotonic() - last_event > limit


class _ExitWaiter:
    """Waits for a child's exit at most a given time, and wakes the moment it exits.

    Popen.wait(timeout) sleeps in growing steps; a pidfd (Linux 5.3+) becomes
    readable on exit, which spares up to a poll interval at the end of every child.
    """

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.pidfd: int | None = None

    def __enter__(self) -> _ExitWaiter:
        with contextlib.suppress(AttributeError, OSError):  # not Linux, or an old kernel
            self.pidfd = os.pidfd_open(self.proc.pid)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)

    def exited(self, timeout: float) -> bool:
        if self.pidfd is not None:
            select.select([self.pidfd], [], [], timeout)
            return self.proc.poll() is not None
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True


def _probe_args(plan: RunPlan) -> tuple[str, ...]:
    return ("--wsdoctor-probe",) if plan.probe else ()


def _results_of(child: ChildRun, output: ChildOutput, ids: Sequence[str],
                interrupted: bool) -> dict[str, TestResult]:
    results = {nodeid: output.results[nodeid] for nodeid in ids if nodeid in output.results}
    victim = _unfinished(output)
    if victim is not None and child.status is not ChildStatus.COMPLETED and not interrupted:
        hung = child.status in (ChildStatus.HUNG, ChildStatus.KILLED)
        outcome = Outcome.HANG if hung else Outcome.CRASH
        message = _hang_message(child) if hung else _death_message(child)
        results[victim] = TestResult(nodeid=victim, outcome=outcome, message=message,
                                     longrepr=child.hang_dump or child.stderr_tail)
    return results


def _continuation(child: ChildRun, output: ChildOutput, ids: Sequence[str]) -> tuple[str, ...]:
    """The ids still to run after a child died under a test; () when there is nothing to do."""
    victim = _unfinished(output)
    if child.status is ChildStatus.COMPLETED or victim is None:
        return ()
    done = set(output.started)
    return tuple(nodeid for nodeid in ids if nodeid not in done)


def _unfinished(output: ChildOutput) -> str | None:
    if output.started and output.started[-1] not in output.results:
        return output.started[-1]
    return None


def missing_result(nodeid: str, collect_errors: dict[str, str]) -> TestResult:
    """The result of a test its child never ran: an error if its file failed to collect there."""
    path = nodeid.split("::", 1)[0]
    for collector, message in collect_errors.items():
        if collector and (path == collector or path.startswith(collector.rstrip("/") + "/")):
            return TestResult(nodeid=nodeid, outcome=Outcome.ERROR,
                              message=f"collection of {collector} failed: {error_summary(message)}",
                              longrepr=message)
    return TestResult(nodeid=nodeid, outcome=Outcome.NOT_RUN)


def _status(returncode: int | None, output: ChildOutput, killed: bool) -> ChildStatus:
    if killed:
        return ChildStatus.KILLED
    if output.exitcode is not None:
        return ChildStatus.COMPLETED
    if output.hang_dump.strip():
        return ChildStatus.HUNG
    return ChildStatus.CRASHED


def _hang_message(child: ChildRun) -> str:
    if child.status is ChildStatus.KILLED:
        return "no progress within the timeout: killed by wsdoctor"
    return _first_line(child.hang_dump) or "timed out"


def _death_message(child: ChildRun) -> str:
    code = child.exit_code
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the test process died with {name}"
    return f"the test process exited with code {code} in the middle of this test"


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _reap(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def _tail(path: Path) -> str:
    try:
        data = path.read_bytes()[-STDERR_TAIL:]
    except OSError:
        return ""
    return data.decode("utf-8", errors="replace")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _slug(label: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in label)
    return cleaned.strip("-")[:60] or "child"
