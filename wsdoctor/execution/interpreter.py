"""Check that another interpreter can run the suite: it runs, and its pytest is one the child supports."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
from pathlib import Path

from wsdoctor.exits import UsageError
from wsdoctor.records import Versions
from wsdoctor.text import first_line
from wsdoctor.versions import version_satisfies

SUPPORTED = {"Python": ">=3.9", "pytest": ">=7.0"}  # by the child side
_PROBE = ("import platform, sys, pytest; "
          "print(platform.python_version(), pytest.__version__, platform.platform(), sys.executable, sep='\\n')")


ANSWER_SECONDS = 120.0  # for the interpreter to start and import pytest (a cold disk, a slow network file system)
ANSWER_BYTES = 64 * 1024  # the answer is four short lines: more is not a Python answering


def check_interpreter(python: str, cwd: Path) -> Versions:
    """Check that ``python`` runs and has a pytest wsdoctor's child plugin supports."""
    hint = "point --python at your project's interpreter, e.g. .venv/bin/python"
    try:
        returncode, stdout = _ask(python, cwd)
    except OSError as error:
        raise UsageError(f"--python {python} cannot be run ({error}); {hint}") from None
    if returncode is None:
        raise UsageError(f"--python {python} did not answer within {ANSWER_SECONDS:.0f} s, or printed more than a "
                         f"Python's version does; {hint}")
    if returncode != 0:
        raise UsageError(f"--python {python} has no importable pytest; install pytest there or {hint}")
    answer = stdout.splitlines()  # one a line: an executable's path may hold spaces
    if len(answer) < 4:
        said = repr(first_line(stdout, limit=80)) if stdout.strip() else "nothing"
        raise UsageError(f"--python {python} did not answer as a Python interpreter does (it printed "
                         f"{said}); {hint}")
    python_version, pytest_version, platform_name, executable = answer[:4]
    if not (_supported("Python", python_version) and _supported("pytest", pytest_version)):
        raise UsageError(f"--python {python} has Python {python_version} with pytest {pytest_version}; "
                         "wsdoctor's child plugin needs Python 3.9+ and pytest 7.0+")
    return Versions(python=python_version, pytest=pytest_version, platform=platform_name,
                    executable=executable)


def _ask(python: str, cwd: Path) -> tuple[int | None, str]:
    """Its exit code and what it printed; None when it did not finish in time or printed without end
    (`--python` naming a script that hangs, or `yes`): then it is ended, with what it started."""
    proc = subprocess.Popen([python, "-c", _PROBE], cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    assert proc.stdout is not None  # PIPE gives it
    deadline = time.monotonic() + ANSWER_SECONDS
    printed = b""
    with proc.stdout:
        while len(printed) <= ANSWER_BYTES and (left := deadline - time.monotonic()) > 0:
            if not select.select([proc.stdout], [], [], left)[0]:
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    return proc.wait(max(0.0, deadline - time.monotonic())), printed.decode(errors="replace")
                break
            printed += chunk
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return None, ""


def _supported(name: str, version: str) -> bool:
    return version_satisfies(version, SUPPORTED[name])
