"""What the user asked of a command: its options (which its record keeps), and how it was asked."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from wsdoctor.codec import replaceable_file
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
    takes files; or it is something to write into as it is (/dev/stdout, a pipe) that takes writes."""
    path = cwd / given
    if path.is_dir():
        raise UsageError(f"{option} {given} is a directory; give it a file name")
    target = replaceable_file(path)
    if target is None:
        writable = os.access(path, os.W_OK)
    else:
        if not target.parent.is_dir():
            raise UsageError(f"{option} {given}: the directory {given.parent} does not exist; create it first")
        writable = os.access(target.parent, os.W_OK) and (not target.exists() or os.access(target, os.W_OK))
    if not writable:
        raise UsageError(f"{option} {given} cannot be written (no permission, or a read-only file system)")


def check_output_directory(given: Path, option: str, cwd: Path) -> None:
    """A directory wsdoctor will write files into at the end: one that exists, or one it can make."""
    path = cwd / given
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {given} is not a directory; give a directory (it is made if missing)")
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        raise UsageError(f"{option} {given} cannot be made: {existing} is a file")
    if not os.access(existing, os.W_OK):
        raise UsageError(f"{option} {given} cannot be written (no permission, or a read-only file system)")
