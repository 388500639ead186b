"""Every child starts from the files the run (or bisect) started with.

Tests that write outside ``tmp_path`` leave files that outlive their process: a child would see
what an earlier child's tests wrote, and a bisect would then prove a "polluter" that breaks
nothing in a clean checkout. So the tree under the rootdir (the probes' rules: not wsdoctor's
records, version control, caches, bytecode, virtual environments) and the top of HOME are
recorded before the first child (small files with their contents), and after the children
put back as they were: what they created is moved aside into the record's directory (never
deleted), what they changed or deleted is written back. What cannot be put back (a large file,
a directory's contents in HOME) is said. The temp directory needs none of this: every child has
its own (wsdoctor.execution.child).
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from wsdoctor.child.files import Entry, listing

MAX_FILE_SAVED = 1 << 20  # bytes of one file whose contents are kept to write it back
MAX_SAVED = 64 << 20  # bytes of all of them
MAX_ENTRIES = 20_000  # a tree larger than this is not watched beyond it


@dataclass(frozen=True, slots=True)
class FileRestore:
    """One file or directory a child left changed, and what became of it."""

    shown: str  # relative to the rootdir, or ~/name
    change: str  # created, modified or deleted
    restored: bool
    where: str = ""  # a created or changed file's content, moved aside

    def __str__(self) -> str:
        if not self.restored:
            return f"{self.shown} ({self.change}; could not be put back)"
        return f"{self.shown} ({self.change})"


@dataclass
class FileState:
    """The watched files as they were at the start, and how to put them back."""

    root: Path
    home: Path | None
    aside: Path  # where created and changed files go
    entries: dict[Path, Entry] = field(default_factory=dict)
    saved: dict[Path, bytes] = field(default_factory=dict)
    moved: int = 0
    own: frozenset[Path] = frozenset()  # wsdoctor's own output files: never the tests' to put back

    @classmethod
    def capture(cls, root: Path, aside: Path, home: Path | None = None) -> FileState:
        home = home if home is not None else _home()
        state = cls(root=root.resolve(), home=home, aside=aside, own=_own_outputs())
        state.entries = state.now()
        budget = MAX_SAVED
        for path, (is_dir, size, _) in state.entries.items():
            if not is_dir and size <= min(MAX_FILE_SAVED, budget):
                try:
                    state.saved[path] = path.read_bytes()
                except OSError:
                    continue
                budget -= size
        return state

    def now(self) -> dict[Path, Entry]:
        found: dict[Path, Entry] = {}
        queue = [self.root]
        while queue and len(found) < MAX_ENTRIES:
            directory = queue.pop(0)
            for name, entry in sorted(listing(str(directory)).items()):
                path = directory / name
                if path in self.own:
                    continue
                found[path] = entry
                if entry[0]:
                    queue.append(path)
        home = self.home
        if home is not None and home != self.root and self.root not in home.parents:
            found.update((home / name, entry) for name, entry in listing(str(home), top_of="home").items()
                         if home / name != self.root)
        return found

    def restore(self) -> list[FileRestore]:
        """Put back what changed since the start; what was done, in path order."""
        now = self.now()
        done: list[FileRestore] = []
        created = sorted(path for path in now if path not in self.entries)
        for path in created:
            if any(parent in created for parent in path.parents):
                continue  # moved with the directory it is in
            done.append(self._move_aside(path, "created"))
        for path, entry in sorted(self.entries.items()):
            current = now.get(path)
            if current is None:
                done.append(self._put_back(path, entry, "deleted"))
            elif current[0] != entry[0] or (not entry[0] and current[1:] != entry[1:]):
                if current[0] and not entry[0]:
                    done.append(self._move_aside(path, "modified"))
                done.append(self._put_back(path, entry, "modified"))
        return done

    def accept(self, paths: Iterable[Path]) -> None:
        """These files were changed on purpose (a patch written into a scratch copy, or taken out
        again): from now on they are put back as they are now."""
        for path in paths:
            path = path.resolve()
            try:
                info = path.stat()
                content = path.read_bytes()
            except FileNotFoundError:
                self.entries.pop(path, None)
                self.saved.pop(path, None)
                continue
            self.entries[path] = (False, info.st_size, info.st_mtime_ns)
            self.saved[path] = content

    def shown(self, path: Path) -> str:
        if path == self.root or self.root in path.parents:
            return path.relative_to(self.root).as_posix()
        if self.home is not None and path.parent == self.home:
            return "~/" + path.name
        return str(path)

    def _move_aside(self, path: Path, change: str) -> FileRestore:
        self.moved += 1
        target = self.aside / f"{self.moved:03d}-{path.name}"
        try:
            self.aside.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), str(target))
        except OSError:
            return FileRestore(self.shown(path), change, restored=False)
        return FileRestore(self.shown(path), change, restored=True, where=str(target))

    def _put_back(self, path: Path, entry: Entry, change: str) -> FileRestore:
        is_dir, _, mtime = entry
        shown = self.shown(path)
        try:
            if is_dir:
                path.mkdir(parents=True, exist_ok=True)
                return FileRestore(shown, change, restored=True)
            content = self.saved.get(path)
            if content is None:
                return FileRestore(shown, change, restored=False)
            where = ""
            if path.exists() and change == "modified":
                where = self._move_aside(path, change).where
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            os.utime(path, ns=(mtime, mtime))
        except OSError:
            return FileRestore(shown, change, restored=False)
        return FileRestore(shown, change, restored=True, where=where)


def _own_outputs() -> frozenset[Path]:
    """The files wsdoctor's standard output and error go to: `wsdoctor run > run.log 2>&1` in the
    project writes one as the run goes, and putting it back would erase what wsdoctor wrote (and
    make a bisect take its own log for a file its trials leave)."""
    found = set()
    for descriptor in (1, 2):
        try:
            if stat.S_ISREG(os.fstat(descriptor).st_mode):
                found.add(Path(os.readlink(f"/proc/self/fd/{descriptor}")))
        except OSError:  # closed, or no /proc: nothing to leave out
            continue
    return frozenset(found)


def _home() -> Path | None:
    home = os.environ.get("HOME")
    return Path(home).resolve() if home and Path(home).is_dir() else None
