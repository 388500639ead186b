"""How paths are shown to the user and written into records."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path, PurePath

STATE_DIR = ".wsdoctor"  # in the project: the records (wsdoctor.store) and the staged child packages
PACKAGES_DIR = "child"  # in STATE_DIR: the staged child packages, one directory per content
PACKAGE_REFERENCE = "child-package.txt"  # in a record's directory: the staged package its children ran


def shown_path(path: Path, cwd: Path) -> str:
    """Relative to where the user ran wsdoctor when it is below; absolute otherwise."""
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)


def pytest_can_name(arg: str) -> bool:
    """Whether pytest's command line takes this path or node id: it reads a '[' in the path part as
    the start of a parametrization ('tests/test_x [1].py' is refused, exit 4), whatever the quoting."""
    return "[" not in arg.split("::", 1)[0]


def common_directory(paths: Sequence[str]) -> str:
    """The deepest directory that holds every one of ``paths`` (files, directories or node ids)."""
    parents = [str(PurePath(p.split("::", 1)[0]).parent) if "::" in p or PurePath(p).suffix else
               p.split("::", 1)[0] for p in paths]
    return os.path.commonpath(parents) or "."
