"""Files are state: what the probes see of the working tree, the home directory and the temp
directory (stdlib only, Python 3.9+; the parent's restore uses the same rules).

A test that writes outside ``tmp_path`` (a dotfile in HOME, a config in the working tree, a file
left in the temp directory, a SQLite file) leaks into every later test, and into every later
process too. Watched: the rootdir tree (without wsdoctor's records, version control, caches,
bytecode and virtual environments), and the top of HOME and of the temp directory. Cheap first:
a directory is listed again only when an entry in it was created, deleted or renamed. On Linux,
inotify says which, in one read per snapshot whatever the size of the tree; elsewhere (or when
inotify is refused) one ``stat`` of each watched directory compares its mtime, which those same
changes move. A file rewritten in place changes no directory: those are seen where files are
stat'ed one by one (``deep``, for small runs), and by the parent's restore after each child in
any case.

Entries: ``file:<path>``, the path relative to the rootdir, ``~/<name>`` in HOME, ``$TMPDIR/<name>``
in the temp directory; the text is "directory" or "<size> bytes, written <time>".
"""

from __future__ import annotations

import os
import select
import struct
import sys
import tempfile
import time
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

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


# inotify(7): what moves a directory's mtime (an entry created, deleted, renamed in or out), and the
# directory itself deleted or renamed; the queue overflowed; a watch ended.
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
IN_DELETE_SELF, IN_MOVE_SELF, IN_Q_OVERFLOW, IN_IGNORED, IN_ONLYDIR = 0x400, 0x800, 0x4000, 0x8000, 0x1000000
DIRECTORY_CHANGES = IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF
EVENT_HEADER = struct.Struct("iIII")  # wd, mask, cookie, length of the name that follows


class DirectoryEvents:
    """Which watched directories had an entry created, deleted or renamed since the last look
    (Linux inotify through ctypes, both in the standard library). ``open()`` gives None where it
    is not available; a watch the kernel refuses (its limit reached) ends it, and ``failed`` says
    so: the caller goes back to comparing mtimes."""

    def __init__(self, add_watch: Any, fd: int) -> None:
        self._add_watch = add_watch
        self.fd = fd
        self._ready = select.poll()  # asking it costs half of a read that finds nothing
        self._ready.register(fd, select.POLLIN)
        self._paths: Dict[int, str] = {}  # watch descriptor -> directory
        self._watched: Dict[str, int] = {}
        self.failed = False
        self.everything = False  # the queue overflowed: any directory may have changed
        self.generation = 0  # grows when something changed: part of the files' signature

    @classmethod
    def open(cls) -> Optional[DirectoryEvents]:
        if not sys.platform.startswith("linux"):
            return None
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            init, add_watch = libc.inotify_init1, libc.inotify_add_watch
            add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
            fd = init(os.O_NONBLOCK | os.O_CLOEXEC)
        except (ImportError, OSError, AttributeError):
            return None
        return cls(add_watch, fd) if fd >= 0 else None

    def watch(self, path: str) -> None:
        if path in self._watched or self.failed:
            return
        wd = self._add_watch(self.fd, os.fsencode(path), DIRECTORY_CHANGES | IN_ONLYDIR)
        if wd >= 0:
            self._paths[wd] = path
            self._watched[path] = wd
        elif os.path.isdir(path):  # not a vanished directory: the kernel's limit, or no permission
            self.close()

    def changed(self) -> Set[str]:
        """The directories that changed since the last call (``everything`` after an overflow)."""
        found: Set[str] = set()
        while not self.failed and self._ready.poll(0):
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                self.close()
                break
            self._read_events(data, found)
        if found or self.everything:
            self.generation += 1
        return found

    def _read_events(self, data: bytes, found: Set[str]) -> None:
        offset = 0
        while offset + EVENT_HEADER.size <= len(data):
            wd, mask, _, length = EVENT_HEADER.unpack_from(data, offset)
            offset += EVENT_HEADER.size + length
            if mask & IN_Q_OVERFLOW:
                self.everything = True
            path = self._paths.get(wd)
            if path is None:
                continue
            found.add(path)
            if mask & IN_IGNORED:  # the directory is gone: a new one there gets a new watch
                del self._paths[wd]
                self._watched.pop(path, None)

    def close(self) -> None:
        if not self.failed:
            self.failed = True
            os.close(self.fd)


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
        self._events = DirectoryEvents.open()
        self._dirty: Set[str] = set()  # directories inotify said changed, not listed again yet
        self._places: Tuple[Tuple[Optional[str], str], List[Tuple[str, str]]] = ((None, ""), [])
        encode = getattr(os.environ, "encodekey", None)
        self._home_key = encode("HOME") if encode is not None else "HOME"  # as os.environ keeps it
        self._raw: Tuple[Any, Any] = (object(), object())  # the raw HOME and tempfile.tempdir, as last seen

    def places(self) -> List[Tuple[str, str]]:
        """(section name, directory): the tree, and the tops of HOME and the temp directory now."""
        # Setting HOME, or tempfile.tempdir, binds a new object: while both are the very objects of
        # last time, so are the places (cheaper than decoding HOME and asking tempfile).
        raw = getattr(os.environ, "_data", None)
        raw_home = raw.get(self._home_key) if raw is not None else None
        raw_temp = tempfile.tempdir
        if raw is not None and raw_temp is not None and raw_home is self._raw[0] and raw_temp is self._raw[1]:
            return self._places[1]
        home, temp = os.environ.get("HOME"), tempfile.gettempdir()
        self._raw = (raw_home, tempfile.tempdir)
        if self._places[0] == (home, temp):
            return self._places[1]
        places = [(FILES_SECTION + "tree", self.root)]
        if home and os.path.abspath(home) != self.root and os.path.isdir(home):
            places.append((FILES_SECTION + "home:" + home, home))
        if os.path.abspath(temp) != self.root:
            places.append((FILES_SECTION + "temp:" + temp, temp))
        self._places = ((home, temp), places)
        return places

    def signature(self) -> List[object]:
        """What changes when a watched entry is created, deleted or renamed (or, deep, rewritten)."""
        places = self.places()
        found: List[object] = [place for place, _ in places]
        events = self._events
        if events is not None:
            for _, path in places[1:]:
                events.watch(path)  # before they are listed: nothing slips between the two
            self._dirty |= events.changed()
        if events is not None and not events.failed:
            # Directories still to be listed again make a signature that equals no other one.
            found.append(events.generation if not self._dirty else object())
        else:
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
        queue = [path for path, known in self._tree.items() if self.deep or self._changed(path, known)]
        self._dirty = set()
        if self._events is not None:
            self._events.everything = False  # this pass compared every directory's mtime
        while queue and len(self._tree) <= MAX_DIRS:
            path = queue.pop(0)
            known = self._tree.get(path)
            if self._events is not None:
                self._events.watch(path)
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

    def _changed(self, path: str, known: _Dir) -> bool:
        events = self._events
        if events is None or events.failed or events.everything or known.mtime == -2:
            return mtime(path) != known.mtime
        return path in self._dirty

    def _forget(self, path: str) -> None:
        gone = [known for known in self._tree if known == path or known.startswith(path + os.sep)]
        for known in gone:
            del self._tree[known]
