"""The project's pyproject.toml and its `[tool.wsdoctor]` table, read with the standard library only:
wsdoctor's entry reads it before anything else is imported (wsdoctor.execution.prestart), the
configuration after (wsdoctor.config)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

PYPROJECT = "pyproject.toml"


def find_pyproject(cwd: Path) -> Path | None:
    """The nearest pyproject.toml from ``cwd`` up: the project's."""
    return next((base / PYPROJECT for base in (cwd, *cwd.parents) if (base / PYPROJECT).is_file()), None)


def wsdoctor_table(pyproject: Path) -> Any:
    """What `[tool.wsdoctor]` holds (an empty table when there is none). Raises OSError,
    UnicodeDecodeError or ValueError (a TOML error) when the file cannot be read."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    tool = document.get("tool", {})
    return tool.get("wsdoctor", {}) if isinstance(tool, dict) else {}
