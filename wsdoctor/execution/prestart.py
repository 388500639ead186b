"""The next child, started before it is asked for: pytest's start-up is paid while another child runs.

A child spends most of a small run starting: the interpreter, then importing pytest (0.2 s of a
0.35 s run of three tests). A supervisor keeps one child started ahead, exactly as the next one
will be started (interpreter, environment with its own mark and temp directory, working directory,
descriptors, session): it imports pytest (nothing else) and waits for its command line on a pipe
(wsdoctor/child/__main__.py). It is a fresh interpreter, not a fork of a shared one, so every
child keeps what a child started the old way has: its own hash seed (unless PYTHONHASHSEED fixes
it), its own environment in /proc (the reaper finds its processes by their mark there), wsdoctor
as its parent.

The gate's first two children are started even sooner, by wsdoctor's entry, before typer, rich and
the records are imported (start_early): the parent's own start-up (a fifth of a second) and theirs
overlap. They are started as the supervisor would start them (wsdoctor.execution.launch is what
both use), with wsdoctor's interpreter in the working directory, only for a command line that
surely starts them so.

A child given its tests by id, once the collection has named the rootdir and the ini file (every
child of a bisect after its first two), goes further: it is started with the part of its command
line that every such child shares (pytest's and wsdoctor's options, the user's arguments), and
loads what that part decides: pytest's ini file and the installed plugins (a tenth of a second in
a venv with a few). It stops before the project's first conftest.py, and reads its own part there:
where it writes, its tests and paths. Those decide which conftest.py files pytest loads first, so
they are on its command line by then, as if it had been started with them. No conftest.py has run
while it waited; plugins have (installed, or named with ``-p``), as in a child running beside
another (child/plugin.py, ``--wsdoctor-await``).

When a prestarted child cannot take its command line (it died, its pipe is full, the interpreter,
working directory, environment or staged package differ from the child's that is wanted), it is
dropped and the child is started the old way. ``WSDOCTOR_PRESTART=0`` turns prestarting off.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wsdoctor.child import protocol
from wsdoctor.child.__main__ import PRESTARTED
from wsdoctor.execution.launch import child_environment, new_place, packages_dir, staged_child_package
from wsdoctor.paths import STATE_DIR
from wsdoctor.pyproject import find_pyproject, wsdoctor_table

SWITCH_VARIABLE = "WSDOCTOR_PRESTART"


def prestart_enabled() -> bool:
    return os.environ.get(SWITCH_VARIABLE, "1").strip().lower() not in {"0", "no", "off", "false"}


def entry_of(child_path: Path) -> str:
    """The child's entry in a staged package, by its path: a project with a `wsdoctor` package of its
    own (first on sys.path) cannot shadow it."""
    return str(child_path.joinpath(*protocol.ENTRY))


@dataclass(frozen=True, slots=True)
class Started:
    """A child process with its place: what the supervisor watches, prestarted or not."""

    proc: subprocess.Popen[bytes]
    temp: Path
    mark: str


@dataclass(slots=True)
class Prestarted:
    """A started child waiting for its command line, or for the part of it that is its own."""

    started: Started
    python: str
    entry: str
    cwd: Path
    environment: dict[str, str]
    control: int  # the write end of the pipe it reads its command line from
    shared: list[str] | None = None  # the command line it was started with; None: it waits for all of it
    cache: Path | None = None  # pytest's cache directory, named on that command line

    @classmethod
    def start(cls, python: str, child_path: Path, cwd: Path, shared: list[str] | None = None,
              cache: Path | None = None) -> Prestarted | None:
        """A child started ahead, in a place of its own, as the supervisor starts one with this
        staged package (with ``shared``, the shared part of its command line, whose cache directory
        is ``cache``); None when it cannot be started (the child is then started the old way, and
        says why if it cannot be)."""
        temp, mark, watched = new_place()
        environment = child_environment(child_path, temp, mark, watched)
        try:
            return cls._start(python, entry_of(child_path), cwd, environment, (temp, mark, watched), shared, cache)
        except OSError:
            shutil.rmtree(temp, ignore_errors=True)
            return None

    @classmethod
    def _start(cls, python: str, entry: str, cwd: Path, environment: dict[str, str], place: tuple[Path, str, int],
               shared: list[str] | None = None, cache: Path | None = None) -> Prestarted:
        temp, mark, watched = place
        read_end, write_end = os.pipe()
        if shared:  # it loads what the shared part decides, then waits for its own part
            command = [*shared, f"{protocol.AWAIT_OPTION}={read_end}"]
        else:  # it imports pytest, then waits for its whole command line
            command = [python, entry, PRESTARTED, str(read_end)]
        try:
            proc = subprocess.Popen(command, cwd=cwd, env=environment,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    start_new_session=True, pass_fds=(watched, read_end))
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        os.set_blocking(write_end, False)  # a command line the pipe cannot hold is not waited for
        return cls(Started(proc, temp, mark), python, entry, cwd, environment, write_end, shared, cache)

    def hand(self, arguments: Sequence[str]) -> bool:
        """Give it its command line (everything after the entry); False when it cannot take it."""
        data = json.dumps(list(arguments)).encode("utf-8")
        if self.started.proc.poll() is not None:
            return False
        try:
            written = os.write(self.control, data)
        except OSError:  # it ended (a broken pipe), or the pipe is full
            return False
        if written != len(data):
            return False
        os.close(self.control)
        self.control = -1
        return True

    def discard(self) -> None:
        """End it and remove what it had: its pipes, its temp directory."""
        if self.control >= 0:
            os.close(self.control)  # an empty request: it ends by itself, or is killed here
            self.control = -1
        proc = self.started.proc
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        shutil.rmtree(self.started.temp, ignore_errors=True)
        if self.cache is not None:
            shutil.rmtree(self.cache, ignore_errors=True)


class PrestartSlot:
    """Prestarted children (at most CAPACITY), each taken by whichever thread starts the next child."""

    CAPACITY = 2  # the gate's first two children, started side by side (start_early)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: list[Prestarted] = []
        self._children = 0  # started by any supervisor of this process

    def note_start(self) -> None:
        with self._lock:
            self._children += 1

    def take(self) -> Prestarted | None:
        with self._lock:
            return self._waiting.pop(0) if self._waiting else None

    def put(self, prestarted: Prestarted) -> None:
        with self._lock:
            extra = len(self._waiting) >= self.CAPACITY
            if not extra:
                self._waiting.append(prestarted)
        if extra:
            prestarted.discard()

    @property
    def wanted(self) -> bool:
        """Whether to prestart a child now: none is waiting, and this process starts children one after
        another (a command that runs a single child, as `run` on a passing suite does, never uses one)."""
        with self._lock:
            return not self._waiting and self._children >= 2

    def discard(self) -> None:
        """End the waiting children."""
        while (taken := self.take()) is not None:
            taken.discard()


# The prestarted children of the whole process: the next children of any supervisor that starts its
# children as they were started (a bisect's collecting supervisor, then its searching one), or the
# gate's first children, started by wsdoctor's entry (start_early).
SLOT = PrestartSlot()
atexit.register(SLOT.discard)


# Commands that start their first children at once, with wsdoctor's interpreter in the working
# directory unless told otherwise, and how many: the gate's suite order and its shuffled order side by
# side; run's first child (its suite order, or the collection child before its other plans).
EARLY_COMMANDS = {"ci": 2, "run": 1}
# Options after which the command does not start those children as start_early would (or none).
NOT_EARLY = frozenset({"--python", "-h", "--help", "--last"})


def start_early(argv: Sequence[str], cwd: Path) -> None:
    """Start the first children of the command on ``argv`` before it is parsed (typer, rich and the
    records take a fifth of a second to import), if it surely starts them at once in ``cwd`` with this
    interpreter. They wait in SLOT like any prestarted child: one the command does not take as it was
    started is discarded and the child started the old way; at exit, what is left is discarded."""
    count = early_children(argv, cwd)
    if count == 0:
        return
    try:
        child_path = staged_child_package(packages_dir(cwd / STATE_DIR))
    except OSError:  # a project wsdoctor cannot write in: the command says so, as it would have
        return
    for _ in range(count):
        waiting = Prestarted.start(sys.executable, child_path, cwd)
        if waiting is None:
            return
        SLOT.put(waiting)


def early_children(argv: Sequence[str], cwd: Path) -> int:
    """How many children the command on ``argv`` starts at once as start_early would start them:
    none when unsure (another interpreter asked for, on the command line or in the configuration)."""
    if len(argv) < 2 or argv[1] not in EARLY_COMMANDS or not prestart_enabled():
        return 0
    options = list(argv[2:argv.index("--")] if "--" in argv else argv[2:])
    if any(option.split("=", 1)[0] in NOT_EARLY for option in options) or _configured_python(cwd):
        return 0
    workers = _option_value(options, "--workers")
    wanted = int(workers) if workers is not None and workers.isdigit() else (os.cpu_count() or 1)
    return max(0, min(EARLY_COMMANDS[argv[1]], wanted))


def _option_value(options: list[str], name: str) -> str | None:
    """The last value given to option ``name`` (``--name VALUE`` or ``--name=VALUE``)."""
    found = None
    for index, option in enumerate(options):
        if option == name and index + 1 < len(options):
            found = options[index + 1]
        elif option.startswith(name + "="):
            found = option.split("=", 1)[1]
    return found


def _configured_python(cwd: Path) -> bool:
    """Whether the project's pyproject.toml (the one wsdoctor.config reads) names a `python`, or
    cannot be read (the command then says why): either way its children are started the usual way."""
    pyproject = find_pyproject(cwd)
    if pyproject is None:
        return False
    try:
        table = wsdoctor_table(pyproject)
    except (OSError, UnicodeDecodeError, ValueError):
        return True
    return not isinstance(table, dict) or "python" in table
