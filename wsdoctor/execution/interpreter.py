"""Check that another interpreter can run the suite: it runs, and its pytest is one the child supports."""

from __future__ import annotations

import subprocess
from pathlib import Path

from wsdoctor.exits import UsageError
from wsdoctor.records import Versions
from wsdoctor.text import first_line
from wsdoctor.versions import version_satisfies

SUPPORTED = {"Python": ">=3.9", "pytest": ">=7.0"}  # by the child side
_PROBE = ("import platform, sys, pytest; "
          "print(platform.python_version(), pytest.__version__, platform.platform(), sys.executable, sep='\\n')")


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
    answer = done.stdout.splitlines()  # one a line: an executable's path may hold spaces
    if len(answer) < 4:
        said = repr(first_line(done.stdout, limit=80)) if done.stdout.strip() else "nothing"
        raise UsageError(f"--python {python} did not answer as a Python interpreter does (it printed "
                         f"{said}); {hint}")
    python_version, pytest_version, platform_name, executable = answer[:4]
    if not (_supported("Python", python_version) and _supported("pytest", pytest_version)):
        raise UsageError(f"--python {python} has Python {python_version} with pytest {pytest_version}; "
                         "wsdoctor's child plugin needs Python 3.9+ and pytest 7.0+")
    return Versions(python=python_version, pytest=pytest_version, platform=platform_name,
                    executable=executable)


def _supported(name: str, version: str) -> bool:
    return version_satisfies(version, SUPPORTED[name])
