"""`[tool.wsdoctor]` in the project's pyproject.toml: everything the flags set, flags winning.

The nearest pyproject.toml from the working directory up is the project's; its directory is the
project root (where the baseline lives by default, and what the configured paths are relative
to). An unknown key or a value of the wrong type is bad input: one line naming the key.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from wsdoctor.analysis.gate import GATE_VERDICTS, unknown_verdicts
from wsdoctor.exits import UsageError
from wsdoctor.pyproject import find_pyproject, wsdoctor_table

DEFAULT_KEEP_RUNS = 10
# Seconds given to any option, on the command line or here: finite, and at most a week (beyond it
# faulthandler's timer overflows on some platforms, and a child dies before its first test).
MAX_SECONDS = 7 * 24 * 3600.0
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Config:
    """What the project configured; None: not set (the command's default applies)."""

    root: Path  # the project root: pyproject.toml's directory, else the working directory
    source: Path | None = None  # the pyproject.toml read, if any
    paths: tuple[str, ...] | None = None  # relative to the working directory, as the flags are
    pytest_args: tuple[str, ...] | None = None
    python: str | None = None
    timeout: float | None = None
    workers: int | None = None
    budget: float | None = None
    fail_on: tuple[str, ...] | None = None
    baseline: Path | None = None
    playbooks: tuple[Path, ...] = ()
    keep_runs: int = DEFAULT_KEEP_RUNS


def _strings(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


def _verdicts(value: Any) -> tuple[str, ...] | None:
    names = _strings(value)
    return names if names is not None and not unknown_verdicts(names) else None


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(minimum: float, above: bool = False) -> Callable[[Any], float | None]:
    def check(value: Any) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return None  # TOML has inf and nan: a deadline of either is no deadline
        if value > MAX_SECONDS:
            return None
        return float(value) if (value > minimum if above else value >= minimum) else None
    return check


def _whole(minimum: int) -> Callable[[Any], int | None]:
    def check(value: Any) -> int | None:
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= minimum else None
    return check


# key: (checker returning the value or None when it is of the wrong type, what it must be)
_KEYS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "paths": (_strings, "a list of strings (files or directories to collect)"),
    "pytest_args": (_strings, "a list of strings (arguments for every child pytest)"),
    "python": (_string, "a string (the interpreter to run the suite with)"),
    "timeout": (_number(0), "a number of seconds >= 0 (at most a week)"),
    "workers": (_whole(1), "a whole number >= 1"),
    "budget": (_number(0, above=True), "a number of seconds > 0 (at most a week)"),
    "fail_on": (_verdicts, f"a list of verdicts out of {', '.join(GATE_VERDICTS)}"),
    "baseline": (_string, "a string (the baseline file's path)"),
    "playbooks": (_strings, "a list of strings (playbook directories)"),
    "keep_runs": (_whole(1), "a whole number >= 1"),
}


def load_config(cwd: Path) -> Config:
    """The project's configuration, read from the nearest pyproject.toml (none: all defaults)."""
    pyproject = find_pyproject(cwd)
    if pyproject is None:
        return Config(root=cwd)
    table = _wsdoctor_table(pyproject)
    values = {key: _checked(pyproject, key, raw) for key, raw in table.items()}
    root = pyproject.parent
    return Config(
        root=root, source=pyproject,
        paths=_relative_paths(values.get("paths"), root, cwd),
        pytest_args=values.get("pytest_args"), python=values.get("python"), timeout=values.get("timeout"),
        workers=values.get("workers"), budget=values.get("budget"), fail_on=values.get("fail_on"),
        baseline=root / values["baseline"] if "baseline" in values else None,
        playbooks=tuple(root / entry for entry in values.get("playbooks", ())),
        keep_runs=values.get("keep_runs", DEFAULT_KEEP_RUNS))


def _wsdoctor_table(pyproject: Path) -> dict[str, Any]:
    try:
        table = wsdoctor_table(pyproject)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UsageError(f"cannot read {pyproject}: {error}") from None
    if not isinstance(table, dict):
        raise UsageError(f"{pyproject}: [tool.wsdoctor] must be a table")
    return table


def _checked(pyproject: Path, key: str, raw: Any) -> Any:
    where = f"{pyproject} [tool.wsdoctor]"
    if key not in _KEYS:
        near = difflib.get_close_matches(key, _KEYS, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else f"; known keys: {', '.join(_KEYS)}"
        raise UsageError(f"{where}: unknown key {key!r}{hint}")
    check, wanted = _KEYS[key]
    value = check(raw)
    if value is None:
        raise UsageError(f"{where}: {key} must be {wanted}, not {raw!r}")
    return value


def _relative_paths(paths: tuple[str, ...] | None, root: Path, cwd: Path) -> tuple[str, ...] | None:
    """Configured paths are the project root's; wsdoctor's are the working directory's."""
    if paths is None:
        return None
    return tuple(os.path.relpath(root / path, cwd) if root != cwd else path for path in paths)


def chosen(flag: T | None, configured: T | None, default: T) -> T:
    """A flag wins over the configuration, which wins over the default."""
    if flag is not None:
        return flag
    return configured if configured is not None else default

