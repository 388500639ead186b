"""One child pytest process: its command line and environment, watching it, ending it.

Children get their test ids through a file and report through files (see
wsdoctor.child.plugin); each runs in its own process group, so a timeout or an
interrupt ends the child and everything it started.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from wsdoctor.child import protocol, reaper
from wsdoctor.childio import ChildOutput, EventTail, apply_events, read_child_dir
from wsdoctor.codec import write_text
from wsdoctor.execution.launch import (
    RUN_TOKEN,
    child_environment,
    new_place,
    record_packages,
    staged_child_package,
    watched_pipe_read_end,
)
from wsdoctor.execution.output import ChildStreams
from wsdoctor.execution.prestart import SLOT, Prestarted, Started, entry_of, prestart_enabled
from wsdoctor.exits import UsageError
from wsdoctor.paths import PACKAGE_REFERENCE, common_directory, pytest_can_name
from wsdoctor.records import AliveThread, ChildProcess, ChildStatus, Collection, Outcome
from wsdoctor.text import slug

HANG_GRACE = 15.0  # faulthandler should end a hung child first; we are the backstop
COLLECT_TIMEOUT_FACTOR = 5  # the collection deadline (per file) when not given: this times --timeout
POLL_INTERVAL = 0.05  # seconds between looks at a running child's events
STDERR_TAIL = 4000
PLUGIN = "wsdoctor.child.plugin"

ProgressCallback = Callable[[str, Outcome], None]
CollectedCallback = Callable[[int], None]  # a child collected this many tests


class SuiteOptions(Protocol):
    """What run and bisect options say about running the suite."""

    @property
    def python(self) -> str: ...

    @property
    def pytest_args(self) -> tuple[str, ...]: ...

    @property
    def timeout(self) -> float: ...

    @property
    def collect_timeout(self) -> float | None: ...


def collection_deadline(options: SuiteOptions) -> float:
    """Seconds for collecting one file (or loading a conftest): given, or derived from --timeout."""
    given = options.collect_timeout
    return given if given is not None else options.timeout * COLLECT_TIMEOUT_FACTOR


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
    collect_timeout: float = 0.0
    ignored: tuple[str, ...] = ()  # files whose import hangs: never collected again

    @classmethod
    def of(cls, options: SuiteOptions, cwd: Path, artifacts: Path,
           collection: Collection | None = None) -> ChildSettings:
        """Children for these options; once collected, rooted where the collection was."""
        return cls(python=options.python, cwd=cwd, pytest_args=options.pytest_args, timeout=options.timeout,
                   artifacts=artifacts, rootdir=collection.rootdir if collection else None,
                   inifile=collection.inifile if collection else None,
                   collect_timeout=collection_deadline(options), ignored=collection.hung if collection else ())


@dataclass(frozen=True, slots=True)
class LiveChild:
    """A child pytest that was started and is not yet watched."""

    proc: subprocess.Popen[bytes]
    directory: Path
    started: float  # time.monotonic() at its start
    mark: str  # in its environment and its descendants': what sweep() looks for
    streams: ChildStreams  # its stdout and stderr, kept bounded
    began: float  # time.time() at its start
    temp: Path | None = None  # its own temp directory, removed when it ends
    identity: tuple[int, int] = (0, 0)  # its directory's device and inode: a test that removes it is seen


class ChildSupervisor:
    """Starts child pytest processes, watches each to its end, and can end every live one."""

    def __init__(self, settings: ChildSettings, on_test_done: ProgressCallback | None = None,
                 one_after_another: bool = False) -> None:
        self.settings = settings
        # Its children run one after another (bisect's trials): when one ends, the next is started
        # ahead at once (elsewhere, a child that ends may be the last: one started then is wasted).
        self.one_after_another = one_after_another
        self.on_test_done = on_test_done
        self.on_collected: CollectedCallback | None = None
        self.on_xdist: Callable[[dict[str, Any]], None] | None = None  # a child said how xdist is set
        self.xdist: dict[str, Any] | None = None  # the project's pytest-xdist distribution, once a child saw it
        self.started = 0
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen[bytes]] = set()
        self._child_path = staged_child_package(record_packages(settings.artifacts))
        settings.artifacts.mkdir(parents=True, exist_ok=True)  # the record names it: pruning keeps it
        write_text(settings.artifacts / PACKAGE_REFERENCE, self._child_path.name + "\n")
        self._entry = entry_of(self._child_path)
        self._prestarted = SLOT
        # The next child is started ahead as the last one was: its extra arguments, and whether it awaited.
        self._next: tuple[tuple[str, ...], bool] = ((), False)
        # A resumed bisect's children are numbered after the earlier session's, never over them.
        self._numbers = itertools.count(_highest_number(settings.artifacts / "children") + 1)

    def run(self, label: str, collect_args: tuple[str, ...], ids: Sequence[str] | None,
            extra: tuple[str, ...]) -> tuple[ChildProcess, ChildOutput]:
        return self.finish(self.start(label, collect_args, ids, extra))

    def start(self, label: str, collect_args: tuple[str, ...], ids: Sequence[str] | None,
              extra: tuple[str, ...]) -> LiveChild:
        directory = self._new_child_dir(label)
        own = self._own_arguments(directory, collect_args, ids)
        awaits = self._can_await(ids)
        started = time.monotonic()
        shared = self._shared_arguments(extra, directory / "cache")
        child = self._from_prestarted(shared, extra, own, awaits) or self._spawn([*shared, *own])
        self._prestarted.note_start()
        self._next = (extra, awaits)
        proc = child.proc
        assert proc.stdout is not None and proc.stderr is not None  # PIPE gives both
        with self._lock:
            self._live.add(proc)
        live = LiveChild(proc=proc, directory=directory, started=started, mark=child.mark,
                         streams=ChildStreams(proc.stdout, proc.stderr, directory), began=time.time(),
                         temp=child.temp, identity=_identity(directory))
        self._prestart_next()
        return live

    def _spawn(self, command: list[str]) -> Started:
        temp, mark, watched = new_place()
        environment = child_environment(self._child_path, temp, mark, watched)
        proc = subprocess.Popen(command, cwd=self.settings.cwd, env=environment, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                                pass_fds=(watched,))
        return Started(proc, temp, mark)

    def _from_prestarted(self, shared: list[str], extra: tuple[str, ...], own: list[str],
                         awaits: bool) -> Started | None:
        """The prestarted child, given the rest of its command line (``shared`` then ``own``), if it was
        started as this one would be and took it."""
        waiting = self._prestarted.take()
        if waiting is None:
            return None
        expected = child_environment(self._child_path, waiting.started.temp, waiting.started.mark,
                                     watched_pipe_read_end())
        rest: list[str] | None = None
        if (waiting.python, waiting.entry, waiting.cwd, waiting.environment) == \
                (self.settings.python, self._entry, self.settings.cwd, expected):
            if waiting.shared is None:  # it waits for its whole command line
                rest = [*shared[2:], *own]
            elif awaits and waiting.cache is not None:
                rest = own if waiting.shared == self._shared_arguments(extra, waiting.cache) else None
        if rest is not None and waiting.hand(rest):
            return waiting.started
        waiting.discard()
        return None

    def _prestart_next(self) -> None:
        """Start the next child now, so that it has imported pytest (and, when it can, pytest's plugins)
        when it is asked for; only on a core no child of ours is using (children side by side on every
        core would wait for it)."""
        with self._lock:
            core_free = len(self._live) < _cores()
        if not (core_free and prestart_enabled() and self._prestarted.wanted) or self.stopping.is_set():
            return
        extra, awaits = self._next
        cache = self._new_cache_dir() if awaits else None
        shared = self._shared_arguments(extra, cache) if cache is not None else None
        waiting = Prestarted.start(self.settings.python, self._child_path, self.settings.cwd, shared, cache)
        if waiting is not None:
            self._prestarted.put(waiting)
        elif cache is not None:
            shutil.rmtree(cache, ignore_errors=True)

    def _new_cache_dir(self) -> Path:
        """pytest's cache directory for a child started with the shared part of its command line (which
        names it), before its own directory exists."""
        caches = self.settings.artifacts / "caches"
        caches.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=caches))

    def collected_by(self, child: LiveChild) -> Collection | None:
        """What a running child collected, once it says so; None if it ended (or wsdoctor is stopping)
        before that, or if a file failed to collect (the suite's collection is then more than this).
        The child's own collection deadline ends it if collecting hangs."""
        tail = EventTail(child.directory / protocol.EVENTS_FILE)
        output = ChildOutput()
        while output.collected is None:
            apply_events(output, tail.read_new(), self.settings.cwd)
            if output.collected is None and (child.proc.poll() is not None or self.stopping.wait(POLL_INTERVAL)):
                return None
        if output.collect_errors:
            return None
        return Collection(rootdir=output.rootdir or str(self.settings.cwd), inifile=output.inifile,
                          tests=output.collected)

    def finish(self, child: LiveChild) -> tuple[ChildProcess, ChildOutput]:
        proc = child.proc
        tail = EventTail(child.directory / protocol.EVENTS_FILE)
        output = ChildOutput()
        try:
            killed = self._watch(child, tail, output)
        finally:
            _kill_group(proc)  # whatever the tests started in the child's group goes too
            reaper.sweep(child.mark)  # and what left the group (a setsid daemon)
            _reap(proc)  # also when Ctrl-C lands here: a child never waited for stays a zombie
            self._release(child)
        return self.result(child, output, killed, tail)

    def _release(self, child: LiveChild) -> None:
        """An ended child's place: no longer live, its output saved, its temp directory gone."""
        with self._lock:
            self._live.discard(child.proc)
        if self.one_after_another:
            self._prestart_next()
        if _identity(child.directory) == child.identity:
            child.streams.save()
        else:  # its directory was removed under it: result() says so
            child.streams.stop()
        if child.temp is not None:
            shutil.rmtree(child.temp, ignore_errors=True)

    def result(self, child: LiveChild, output: ChildOutput, killed: bool,
               tail: EventTail | None = None) -> tuple[ChildProcess, ChildOutput]:
        """What an ended child left: its events (continuing ``tail``), report and files."""
        proc, directory = child.proc, child.directory
        if _identity(directory) != child.identity:  # what the child said is gone: no verdict can stand on it
            raise UsageError(f"the tests removed wsdoctor's records while it ran ({directory} is gone): keep "
                             f"{directory.parents[3].name}/ out of what they delete, then run wsdoctor again")
        output = read_child_dir(directory, self.settings.cwd, output, tail)
        if output.xdist is not None and self.xdist is None:
            self.xdist = {key: value for key, value in output.xdist.items() if key != "used"}
        status = _status(output, killed, interrupted=self.stopping.is_set())
        run = ChildProcess(status=status, exit_code=proc.returncode,
                       seconds=round(time.monotonic() - child.started, 3), artifacts=str(directory),
                       started=tuple(output.started), hang_dump=output.hang_dump,
                       stderr_tail=_tail(directory / "stderr.txt"), notes=tuple(output.notes),
                       threads_alive=_threads_alive(output) if status is ChildStatus.LINGERED else (),
                       began=child.began, ended=time.time())
        return run, output

    def cancel(self, child: LiveChild) -> None:
        """End a started child whose run is not wanted (it is started again later)."""
        _kill_group(child.proc)
        reaper.sweep(child.mark)
        _reap(child.proc)
        self._release(child)

    def kill_all(self) -> None:
        self.stopping.set()
        self._prestarted.discard()
        with self._lock:
            live = list(self._live)
        for proc in live:
            _kill_group(proc)
        reaper.sweep(RUN_TOKEN + "/", whole=False)

    def _new_child_dir(self, label: str) -> Path:
        with self._lock:
            self.started += 1
            number = next(self._numbers)
        name = slug(label, keep="-_.", limit=60) or "child"
        directory = self.settings.artifacts / "children" / f"{number:04d}-{name}"
        directory.mkdir(parents=True, exist_ok=True)
        write_text(directory / "label.txt", label + "\n")
        return directory

    def _can_await(self, ids: Sequence[str] | None) -> bool:
        """Whether a child started ahead could load pytest's plugins and ini file before its own part of the
        command line is known: only if that part cannot change them (a child given its tests by id, with
        its rootdir and ini file named, as every child after the collection is)."""
        return ids is not None and bool(self.settings.rootdir) and bool(self.settings.inifile)

    def _shared_arguments(self, extra: tuple[str, ...], cache: Path) -> list[str]:
        """The command line every child of a kind shares, up to the user's own pytest arguments."""
        s = self.settings
        randomly = () if "--randomly-seed" in " ".join(extra) else ("-p", "no:randomly")
        command = [s.python, self._entry, "-p", PLUGIN, *randomly, "--continue-on-collection-errors",
                   f"--wsdoctor-timeout={s.timeout}", f"--wsdoctor-collect-timeout={s.collect_timeout}",
                   f"-o=cache_dir={cache}", *(f"--ignore={path}" for path in s.ignored)]
        if s.rootdir:
            command.append(f"--rootdir={s.rootdir}")
        if s.inifile:
            command += ["-c", s.inifile]
        return command + list(extra) + list(s.pytest_args)

    def _own_arguments(self, directory: Path, collect_args: tuple[str, ...], ids: Sequence[str] | None) -> list[str]:
        """What only this child has on its command line: where it writes, its tests and paths."""
        own = [f"--wsdoctor-out={directory}"]
        if ids is not None:
            write_text(directory / "ids.txt", "".join(map(protocol.id_line, ids)))
            own.append(f"--wsdoctor-ids={directory / 'ids.txt'}")
        options, paths = self._paths(directory, collect_args)
        # The paths after `--`: an option of the user's that takes an optional value (`--debug`)
        # would take the first one for its value (and write its log over that test file).
        return own + options + (["--", *paths] if paths else [])

    def _paths(self, directory: Path, collect_args: tuple[str, ...]) -> tuple[list[str], list[str]]:
        """The options and the paths that say what to collect, as pytest's command line takes them. A
        path it cannot name (a file with '[' in its name) is collected from the directory that holds
        them all, and the plugin ignores everything else in it (--wsdoctor-paths)."""
        if all(pytest_can_name(arg) for arg in collect_args):
            return [], list(collect_args)
        listed = directory / "paths.txt"
        files = (str(self.settings.cwd / arg.split("::", 1)[0]) for arg in collect_args)
        write_text(listed, "".join(map(protocol.id_line, files)))
        return [f"--wsdoctor-paths={listed}"], [common_directory(collect_args)]

    def _watch(self, child: LiveChild, tail: EventTail, output: ChildOutput) -> bool:
        """Wait for the child, draining its output and reporting progress; True if we had to kill it."""
        proc = child.proc
        last_event = time.monotonic()
        with _ExitWaiter(proc) as waiter:
            while not waiter.exited(POLL_INTERVAL):
                if self._drain(tail, output):
                    last_event = time.monotonic()
                if self.stopping.is_set() or self._silent_too_long(output, last_event):
                    _kill_group(proc)
                    proc.wait()
                    return True
        self._drain(tail, output)
        return False

    def _drain(self, tail: EventTail, output: ChildOutput) -> bool:
        """Apply the child's new events, reporting finished tests; True if there were any."""
        events = tail.read_new()
        for event in apply_events(output, events, self.settings.cwd):
            if event["event"] == "test" and self.on_test_done:
                result = output.results[event["test"]["nodeid"]]
                self.on_test_done(result.nodeid, result.outcome)
            elif event["event"] == "collected" and self.on_collected and output.collected is not None:
                self.on_collected(len(output.collected))
            elif event["event"] == "total" and self.on_collected and isinstance(event.get("tests"), int):
                self.on_collected(event["tests"])  # a distributed run's controller: the workers' tests
            elif event["event"] == "xdist" and self.on_xdist:
                self.on_xdist(event)
        return bool(events)

    def _silent_too_long(self, output: ChildOutput, last_event: float) -> bool:
        deadline = self.settings.collect_timeout if output.collected is None else self.settings.timeout
        return deadline > 0 and time.monotonic() - last_event > deadline + HANG_GRACE


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
        """Whether the child exited, waiting at most ``timeout`` (its output drains meanwhile:
        wsdoctor.execution.output)."""
        if self.pidfd is not None:
            select.select([self.pidfd], [], [], timeout)
            return self.proc.poll() is not None
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True


def _status(output: ChildOutput, killed: bool, interrupted: bool) -> ChildStatus:
    if killed and interrupted:
        return ChildStatus.KILLED
    if output.exitcode is not None and (killed or output.hang_dump.strip()):
        return ChildStatus.LINGERED  # its session had finished: only the process would not end
    if killed:
        return ChildStatus.KILLED
    if output.exitcode is not None:
        return ChildStatus.COMPLETED
    if output.hang_dump.strip():
        return ChildStatus.HUNG
    return ChildStatus.CRASHED


def _cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def _identity(directory: Path) -> tuple[int, int]:
    """A directory's device and inode; (0, 0) when it is gone. Removed and made again (pytest makes
    its cache directory inside a child's), it is another directory."""
    try:
        found = directory.stat()
    except OSError:
        return (0, 0)
    return (found.st_dev, found.st_ino)


def _highest_number(children: Path) -> int:
    """The highest number of the child directories already there (0001-suite, ...); 0 for none."""
    numbers = [int(path.name[:4]) for path in children.glob("[0-9][0-9][0-9][0-9]-*")] if children.is_dir() else []
    return max(numbers, default=0)


def _threads_alive(output: ChildOutput) -> tuple[AliveThread, ...]:
    """The threads listed when the session finished that the exit dump still shows (all of them when
    there is no dump: wsdoctor had to kill the process)."""
    dumped = {int(ident, 16) for ident in re.findall(r"^(?:Current thread|Thread) (0x[0-9a-f]+)", output.hang_dump,
                                                     re.MULTILINE)}
    return tuple(AliveThread(name=str(thread.get("name", "")), started_by=str(thread.get("started_by") or ""))
                 for thread in output.threads if not dumped or thread.get("ident") in dumped)


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
