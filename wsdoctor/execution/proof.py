"""Where `wsdoctor fix` proves a patch: a scratch copy of the project, never the user's tree.

The copy holds the project's files (not its version control, virtual environments, caches or
wsdoctor's records) in a temporary directory; the suite's interpreter stays the user's. A
candidate's files are written into the copy, its children run there (the same child machinery
as run and bisect, from the same files every time), and the copy's files are put back before the
next candidate.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from wsdoctor.execution.files import FileState

SKIPPED_DIRECTORIES = frozenset({".wsdoctor", ".git", ".hg", ".svn", ".tox", ".nox", "node_modules", "__pycache__",
                                 ".pytest_cache", ".mypy_cache", ".ruff_cache"})


def _skipped(directory: str, names: Iterable[str]) -> set[str]:
    return {name for name in names if name in SKIPPED_DIRECTORIES
            or os.path.isfile(os.path.join(directory, name, "pyvenv.cfg"))}


class Scratch:
    """A copy of the project; ``cwd`` is the user's working directory's place in it."""

    def __init__(self, project: Path, cwd: Path, parent: Path | None = None) -> None:
        self.project = project
        self.base = Path(tempfile.mkdtemp(prefix="wsdoctor-fix-", dir=parent))
        self.root = self.base / (project.name or "project")
        shutil.copytree(project, self.root, symlinks=True, ignore=_skipped)
        self.cwd = self.root / cwd.relative_to(project)
        self._originals: dict[str, str | None] = {}  # relative to cwd: the copy's text before a candidate
        self.files: FileState | None = None  # what the children's files are put back to: told of every change

    @classmethod
    def of(cls, cwd: Path, rootdir: str) -> Scratch:
        """A copy of what holds both the working directory and the rootdir."""
        project = Path(os.path.commonpath([cwd.resolve(), Path(rootdir).resolve()]))
        return cls(project, cwd.resolve())

    def mapped(self, path: str | None) -> str | None:
        """A path of the user's project (the rootdir, an ini file), in the copy."""
        if path is None:
            return None
        absolute = Path(path)
        if not absolute.is_absolute() or not absolute.resolve().is_relative_to(self.project):
            return path
        return str(self.root / absolute.resolve().relative_to(self.project))

    def read(self, relative: str) -> str | None:
        """A file of the copy, as the user's tree has it (before any candidate)."""
        if relative in self._originals:
            return self._originals[relative]
        path = self.cwd / relative
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def write(self, texts: Mapping[str, str]) -> None:
        """A candidate's files, in place of the copy's (those of an earlier candidate are put back first)."""
        self.revert()
        for relative, text in texts.items():
            self._originals[relative] = self.read(relative)
            path = self.cwd / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            _forget_bytecode(path)
        self._accept(texts)

    def revert(self) -> None:
        for relative, text in self._originals.items():
            path = self.cwd / relative
            if text is None:
                path.unlink(missing_ok=True)
            else:
                path.write_text(text, encoding="utf-8")
            _forget_bytecode(path)
        self._accept(self._originals)
        self._originals.clear()

    def _accept(self, relatives: Iterable[str]) -> None:
        if self.files is not None:
            self.files.accept(self.cwd / relative for relative in relatives)

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


def _forget_bytecode(path: Path) -> None:
    """A file rewritten within the same second keeps its size and mtime: its cached bytecode would be used."""
    cache = path.parent / "__pycache__"
    for stale in cache.glob(f"{path.stem}.*.pyc") if cache.is_dir() else ():
        stale.unlink(missing_ok=True)
