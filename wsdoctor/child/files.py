"""Files are state: what the probes see of the working tree, the home directory and the temp
directory (stdlib only, Python 3.9+; the parent's restore uses the same rules).

A test that writes outside ``tmp_path`` (a dotfile in HOME, a config in the working tree, a file
left in the temp directory, a SQLite file) leaks into every later test, and into every later
process too. Watched: the rootdir tree (without wsdoctor's records, version control, caches,
bytecode and virtual environments), and the top of HOME and of the temp directory. Cheap first:
one ``stat`` of each watched directory per snapshot, and a directory is listed again only when
its mtime changed, which creating, deleting or renaming an entry does. A file rewritten in place
changes no directory: those are seen where files are stat'ed one by one (``deep``, for small
runs), and by the parent's restore after each child in any case.

Entries: ``file:<path>``, the path relative to the rootdir, ``~/<name>`` in HOME, ``$TMPDIR/<name>``
in the temp directory; the text is "directory" or "<size> bytes, written <time>".
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Dict, Iterator, List, Optional, Tuple

SKIPPED_DIRS = frozenset({
    ".wsdoctor", ".git", ".hg", ".svn", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache",
    ".tox", ".nox", ".venv", "venv", ".eggs", "node_modules", ".hypothesis", ".benchmarks", "htmlcov",
    ".idea", ".vscode"})
SKIPPED_FILE_SUFFIXES = (".pyc", ".pyo", ".swp", "~")
SKIPPED_FILE_PREFIXES = (".coverage",)
SKIPPED_TEMP_PREFIXES = ("pytest-of-", "wsdoctor-")  # pytest's own base temp, and wsdoctor's
# What shells, pagers and editors keep at the top of HOME, changing as the user works.
SKIPPED_HOME_SUFFIXES = ("history", ".lesshst", ".viminfo", "-hsts", ".xsession-errors")
MAX_DIRS = 1000  # directories of the tree watched, top levels first
HOME, TEMP = "~/", "$TMPDIR/"
FILES_SECTION = "files:"
Entry = Tuple[bool, int, int]  # is a directory, size, mtime in ns


def skipped_dir(name: str, path: str) -> bool:
    return (name in SKIPPED_DIRS or name.endswith(".egg-info") or path == _bytecode_dir()
            or os.path.exists(os.path.join(path, "pyvenv.cfg")))  # a virtual environment


def _bytecode_dir() -> str:
    """Where PYTHONPYCACHEPREFIX puts bytecode, if it is set: not state either."""
    prefix = os.environ.get("PYTHONPYCACHEPREFIX")
    return os.path.abspath(prefix) if prefix else ""


def skipped_file(name: str) -> bool:
    return name.endswith(SKIPPED_FILE_SUFFIXES) or name.startswith(SKIPPED_FILE_PREFIXES)


def entry_text(entry: Entry) -> str:
    is_dir, size, mtime = entry
    if is_dir:
        return "directory"
    written = time.strftime("%H:%M:%S", time.localtime(mtime / 1e9)) + f".{mtime // 1_000_000 % 1000:03d}"
    return f"{size} bytes, written {written}"


def listing(path: str, top_of: Optional[str] = None) -> Dict[str, Entry]:
    """Entries of one directory; ``top_of`` "temp" leaves out pytest's and wsdoctor's own, "home"
    what the user's shell and editor keep there."""
    found: Dict[str, Entry] = {}
    try:
        scanned = list(os.scandir(path))
    except OSError:
        return found
    for item in scanned:
        try:
            is_dir = item.is_dir(follow_symlinks=False)
            if (is_dir and skipped_dir(item.name, item.path)) or (not is_dir and skipped_file(item.name)):
                continue
            if (top_of == "temp" and item.name.startswith(SKIPPED_TEMP_PREFIXES)) or \
                    (top_of == "home" and item.name.endswith(SKIPPED_HOME_SUFFIXES)):
                continue
            info = item.stat(follow_symlinks=False)
        except OSError:
            continue
        found[item.name] = (is_dir, 0 if is_dir else info.st_size, 0 if is_dir else info.st_mtime_ns)
    return found


def mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


class _Dir:
    __slots__ = ("entries", "mtime", "relative")

    def __init__(self, relative: str, mtime_ns: int, entries: Dict[str, Entry]) -> None:
        self.relative = relative
        self.mtime = mtime_ns
        self.entries = entries


class FileWatch:
    """The watched files, re-read where a directory's mtime says something changed."""

    def __init__(self, root: str, deep: bool = False, skipped: Tuple[str, ...] = ()) -> None:
        self.root = os.path.abspath(root)
        self.deep = deep  # stat every file each time: a file rewritten in place is seen too
        self.skipped = frozenset(os.path.abspath(path) for path in skipped)  # e.g. pytest's --basetemp
        self._tree: Dict[str, _Dir] = {}
        self._tops: Dict[str, _Dir] = {}  # HOME's and the temp directory's, by path
        self._signature: List[int] = []

    def places(self) -> List[Tuple[str, str]]:
        """(section name, directory): the tree, and the tops of HOME and the temp directory now."""
        places = [(FILES_SECTION + "tree", self.root)]
        home, temp = os.environ.get("HOME"), tempfile.gettempdir()
        if home and os.path.abspath(home) != self.root and os.path.isdir(home):
            places.append((FILES_SECTION + "home:" + home, home))
        if os.path.abspath(temp) != self.root:
            places.append((FILES_SECTION + "temp:" + temp, temp))
        return places

    def signature(self) -> List[object]:
        """What changes when a watched entry is created, deleted or renamed (or, deep, rewritten)."""
        places = self.places()
        found: List[object] = [place for place, _ in places]
        found += [mtime(path) for path in self._tree]
        found += [mtime(path) for _, path in places[1:]]
        if self.deep:
            found += [mtime(os.path.join(path, name)) for path, known in self._tree.items()
                      for name, entry in known.entries.items() if not entry[0]]
        return found

    def sections(self) -> Dict[str, Dict[str, str]]:
        places = self.places()
        self._refresh_tree()
        home = os.path.abspath(os.environ.get("HOME") or "/")
        inside = os.path.relpath(home, self.root).replace(os.sep, "/") + "/" \
            if home.startswith(self.root + os.sep) else ""
        tree = {"file:" + relative: entry_text(entry) for relative, entry in self._tree_entries()
                if not inside or not relative.startswith(inside)}  # HOME in the tree: named ~/..., once
        sections = {FILES_SECTION + "tree": tree}
        for name, path in places[1:]:
            prefix, top_of = (HOME, "home") if name.startswith(FILES_SECTION + "home:") else (TEMP, "temp")
            sections[name] = {"file:" + prefix + entry_name: entry_text(entry)
                              for entry_name, entry in listing(path, top_of).items()
                              if os.path.join(path, entry_name) != self.root}
        return sections

    def _tree_entries(self) -> Iterator[Tuple[str, Entry]]:
        for known in self._tree.values():
            for name, entry in known.entries.items():
                yield (known.relative + name, entry)

    def _refresh_tree(self) -> None:
        """List again the directories whose mtime changed, and those that appeared under them."""
        if not self._tree:
            self._tree[self.root] = _Dir("", -2, {})
        queue = [path for path, known in self._tree.items() if mtime(path) != known.mtime or self.deep]
        while queue and len(self._tree) <= MAX_DIRS:
            path = queue.pop(0)
            known = self._tree.get(path)
            now = mtime(path)
            if now == -1:
                self._forget(path)
                continue
            entries = {name: entry for name, entry in listing(path).items()
                       if os.path.join(path, name) not in self.skipped}
            relative = os.path.relpath(path, self.root).replace(os.sep, "/") + "/" if path != self.root else ""
            old = known.entries if known is not None else {}
            self._tree[path] = _Dir(relative, now, entries)
            for name, entry in entries.items():
                child = os.path.join(path, name)
                if entry[0] and (child not in self._tree or name not in old):
                    queue.append(child)
            for name in old.keys() - entries.keys():
                self._forget(os.path.join(path, name))

    def _forget(self, path: str) -> None:
        gone = [known for known in self._tree if known == path or known.startswith(path + os.sep)]
        for known in gone:
            del self._tree[known]
