"""The next child, started before it is asked for: pytest's start-up is paid while another child runs.

A child spends most of a small run starting: the interpreter, then importing pytest (0.2 s of a
0.35 s run of three tests). A supervisor keeps one child started ahead, exactly as the next one
will be started (interpreter, environment with its own mark and temp directory, working directory,
descriptors, session): it imports pytest (nothing else) and waits for its command line on a pipe
(wsdoctor/child/__main__.py). It is a fresh interpreter, not a fork of a shared one, so every
child keeps what a child started the old way has: its own hash seed (unless PYTHONHASHSEED fixes
it), its own environment in /proc (the reaper finds its processes by their mark there), wsdoctor
as its parent.

When a prestarted child cannot take its command line (it died, its pipe is full, the environment
changed since), it is dropped and the child is started the old way. ``WSDOCTOR_PRESTART=0`` turns
prestarting off.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wsdoctor.child.__main__ import PRESTARTED

SWITCH_VARIABLE = "WSDOCTOR_PRESTART"


def prestart_enabled() -> bool:
    return os.environ.get(SWITCH_VARIABLE, "1").strip().lower() not in {"0", "no", "off", "false"}


@dataclass(frozen=True, slots=True)
class Started:
    """A child process with its place: what the supervisor watches, prestarted or not."""

    proc: subprocess.Popen[bytes]
    temp: Path
    mark: str


@dataclass(slots=True)
class Prestarted:
    """A started child waiting for its command line."""

    started: Started
    python: str
    cwd: Path
    environment: dict[str, str]
    control: int  # the write end of the pipe it reads its command line from

    @classmethod
    def start(cls, python: str, entry: str, cwd: Path, environment: dict[str, str], temp: Path, mark: str,
              watched: int) -> Prestarted:
        read_end, write_end = os.pipe()
        try:
            proc = subprocess.Popen([python, entry, PRESTARTED, str(read_end)], cwd=cwd, env=environment,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    start_new_session=True, pass_fds=(watched, read_end))
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        os.set_blocking(write_end, False)  # a command line the pipe cannot hold is not waited for
        return cls(Started(proc, temp, mark), python, cwd, environment, write_end)

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


class PrestartSlot:
    """At most one prestarted child, taken by whichever thread starts the next child."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: Prestarted | None = None
        self._children = 0  # started by any supervisor of this process

    def note_start(self) -> None:
        with self._lock:
            self._children += 1

    def take(self) -> Prestarted | None:
        with self._lock:
            taken, self._waiting = self._waiting, None
        return taken

    def put(self, prestarted: Prestarted) -> None:
        with self._lock:
            extra = self._waiting is not None
            if not extra:
                self._waiting = prestarted
        if extra:
            prestarted.discard()

    @property
    def wanted(self) -> bool:
        """Whether to prestart a child now: none is waiting, and this process starts children one after
        another (a command that runs a single child, as `run` on a passing suite does, never uses one)."""
        with self._lock:
            return self._waiting is None and self._children >= 2

    def discard(self) -> None:
        """End the waiting child, if there is one."""
        taken = self.take()
        if taken is not None:
            taken.discard()
