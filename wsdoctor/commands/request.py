"""What the user asked of a command: its options (which its record keeps), and how it was asked."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from wsdoctor.exits import UsageError

Options = TypeVar("Options")


@dataclass(frozen=True, slots=True)
class Request(Generic[Options]):
    options: Options
    cwd: Path  # where wsdoctor was run: paths and records are found from here
    python_given: bool = False  # --python was given: reproduce commands name that interpreter
    json_path: Path | None = None  # --json FILE

    def check_outputs(self) -> None:
        """Before any child starts: a long run must not end in an output it cannot write."""
        if self.json_path is not None:
            check_output_file(self.json_path, "--json", self.cwd)


def check_output_file(given: Path, option: str, cwd: Path) -> None:
    """A file wsdoctor will write at the end (``given`` as the user gave it): its directory exists and
    takes files."""
    path = cwd / given
    if path.is_dir():
        raise UsageError(f"{option} {given} is a directory; give it a file name")
    if not path.parent.is_dir():
        raise UsageError(f"{option} {given}: the directory {given.parent} does not exist; create it first")
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"{option} {given} cannot be written (no permission, or a read-only file system)")
