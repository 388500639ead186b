"""Check that another interpreter can run the suite: it runs, and its pytest is one the child supports."""

from __future__ import annotations

import subprocess
from pathlib import Path

from wsdoctor.exits import UsageError
from wsdoctor.records import Versions

MIN_PYTHON = (3, 9)
MIN_PYTEST = (7, 0)
_PROBE = ("import platform, sys, pytest; "
          "print(platform.python_version(), pytest.__version__, platform.platform(), sys.executable)")


def check_interpreter(python: str, cwd: Path) -> Versions:
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
