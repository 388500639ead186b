"""Snapshots of process-global state and what changed between two (stdlib only, Python 3.9+).

A snapshot maps section names (``sys.modules``, ``project-modules``, ``environ``, ...; and
``module:tests.test_x`` for the running test's own module) to sections, flat maps
``"kind:name" -> short text``. Comparing two snapshots names what a test
(or the import of a test file) changed and left changed: the reference list is CPython's
regrtest ``save_env``, plus the module-level state of the project's own modules, where test
pollution usually lives. Warnings filters are left out: pytest restores them around every test.

Everything here must stay cheap: it runs once per test. A section that did not change is the
very object of the previous snapshot, so comparing it costs one identity check; what a section
is built from is compared by identity (in C) before anything is rebuilt, and the globals of a
module are re-read only when a name in it was rebound (see ``namespaces.ModuleGroup``). What
each section watches lives in ``namespaces`` (module globals, classes, objects, containers) and
``process_state`` (environment, threads, sockets, patchers, logging, signals, event loop).
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # C module behind signal: no stub
import logging
import operator
import os
import sys
import threading
import types
from itertools import chain
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from wsdoctor.child.dict_versions import AVAILABLE, DictVersions
from wsdoctor.child.files import FILES_SECTION, FileWatch
from wsdoctor.child.namespaces import Bindings, Entries, ModuleGroup, Section, namespace_of, same_objects, unchanged
from wsdoctor.child.process_state import (
    DISABLED,
    HANDLERS,
    SIGNAL_NUMBERS,
    OpenFiles,
    active_patches,
    current_dir,
    current_loop,
    environ_entries,
    event_loop_entries,
    logging_entries,
    patcher_entries,
    process_entries,
    signal_entries,
    socket_entries,
    thread_entries,
)

Snapshot = Dict[str, Section]  # section name -> its entries
SYS_MODULES = "sys.modules"
PROJECT_SECTION = "project-modules"
MODULE_SECTION = "module:"  # + the name of a test module
Change = Tuple[str, Optional[str], Optional[str]]  # key, before, after (None: absent)
_NUMBERS = [number for _, number in SIGNAL_NUMBERS]


class StateProbe:
    """Snapshots scoped to one project: its modules are the ones under ``root``.

    Test modules are left out of the process-wide part (there are many, and a test seldom
    changes another test module's globals); ``snapshot(module)`` adds the running test's own.
    """

    def __init__(self, root: str, deep_files: bool = False, skipped_files: Tuple[str, ...] = ()) -> None:
        self.root = os.path.abspath(root) + os.sep
        self._files = FileWatch(root, deep=deep_files, skipped=skipped_files)
        self._file_signature: List[object] = []
        self._file_sections: Snapshot = {}
        self._own_modules: Dict[str, bool] = {}
        self._module_keys: List[str] = []
        self._module_values: List[Any] = []
        self._modules_version: Optional[DictVersions] = None  # sys.modules' version, where there is one
        self._bindings: Dict[str, Tuple[Dict[str, Any], Bindings]] = {}  # module -> namespace, names
        self._project = ModuleGroup([])  # the project's own modules, but for test modules
        self._test_modules: Dict[str, ModuleGroup] = {}
        self._sections: Snapshot = {}  # the last section of each name
        self._watched: Dict[str, Any] = {}  # what each section was last built from
        self._by_value: List[Any] = []  # what the process sections were last built from
        self._by_identity: List[Any] = []
        self._process: Snapshot = {}
        self._logger_entries: List[Any] = []
        self._open_files = OpenFiles()
        self._loggers: List[logging.Logger] = []
        self._state: Snapshot = {}  # the last snapshot

    def snapshot(self, test_module: Any = None) -> Snapshot:
        """The state now: the very snapshot of the last call when no section changed (a caller
        must not change a snapshot it is given)."""
        state: Snapshot = {SYS_MODULES: self._sys_modules()}
        described: Set[int] = set()
        state[PROJECT_SECTION] = self._project.section(described)
        self._add_test_module(state, test_module, described)
        state.update(self._process_sections())
        state.update(self._files_sections())
        last = self._state
        if state.keys() == last.keys() and all(map(operator.is_, state.values(), last.values())):
            return last
        self._state = state
        return state

    def watch_files_deeply(self, deep: bool) -> None:
        """Stat every watched file each time (a file rewritten in place is seen): for small runs."""
        self._files.deep = deep

    def _files_sections(self) -> Snapshot:
        """The watched files: listed again only when a watched directory's mtime changed."""
        signature = self._files.signature()
        if signature != self._file_signature or not self._file_sections:
            old = self._file_sections
            self._file_sections = {name: old[name] if name in old and dict.__eq__(old[name], entries)
                                   else Section(entries) for name, entries in self._files.sections().items()}
            self._file_signature = self._files.signature()
        return self._file_sections

    def _process_sections(self) -> Snapshot:
        """Environment, threads, sockets, patchers, logging, signals, event loop: all reused at
        once while nothing they are built from changed (texts and numbers compared by value,
        objects by identity), else each rebuilt when what it is built from changed."""
        environ = getattr(os.environ, "_data", None)  # the raw mapping behind os.environ, on POSIX
        by_value = [environ, current_dir(), self._open_files.now(), *sys.path]
        threads, patches, loggers = threading.enumerate(), active_patches(), self._logging_watch()
        # _signal's getsignal, not signal's: that one turns SIG_DFL and SIG_IGN into enums, slowly.
        handlers = list(map(_signal.getsignal, _NUMBERS))
        loop = current_loop()
        by_identity = [*threads, *patches, *loggers, *handlers, *loop]
        if by_value == self._by_value and same_objects(by_identity, self._by_identity):
            return self._process
        self._by_value = [dict(environ) if environ is not None else None, *by_value[1:]]
        self._by_identity = by_identity
        self._process = {
            "environ": self._section("environ", environ, environ_entries, operator.eq, copy=dict),
            "process": self._section("process", by_value[1:2] + by_value[3:], process_entries, operator.eq),
            "threads": self._section("threads", threads, thread_entries),
            "sockets": self._section("sockets", by_value[2], socket_entries, operator.eq),
            "patchers": self._section("patchers", patches, patcher_entries),
            "logging": self._section("logging", loggers, logging_entries),
            "signals": self._section("signals", handlers, signal_entries),
            "event-loop": self._section("event-loop", loop, event_loop_entries),
        }
        return self._process

    def with_test_module(self, state: Snapshot, module: Any) -> Snapshot:
        """``state`` and the globals of a test module as they are now."""
        state = dict(state)
        self._add_test_module(state, module, set(self._project.described))
        return state

    def _add_test_module(self, state: Snapshot, module: Any, described: Set[int]) -> None:
        name = getattr(module, "__name__", None)
        if name is not None and self._is_own(name, module):
            group = self._test_modules.get(name)
            if group is None or group.modules[0][1] is not vars(module):
                group = self._test_modules[name] = ModuleGroup([self._module(name, module)], functions=False)
            state[MODULE_SECTION + name] = group.section(described)

    def _section(self, name: str, watched: Any, build: Callable[[Any], Entries],
                 same: Callable[[Any, Any], bool] = same_objects,
                 copy: Optional[Callable[[Any], Any]] = None) -> Section:
        """Section ``name``, built from ``watched`` unless that is the same as last time.

        Objects are compared by identity by default: a test changes state by binding new
        objects; ``same`` says otherwise for values compared by equality.
        """
        section = self._sections.get(name)
        last = self._watched.get(name)
        if section is None or watched is None or last is None or not same(watched, last):
            self._watched[name] = copy(watched) if copy is not None and watched is not None else watched
            entries = build(watched)
            if section is None or not dict.__eq__(section, entries):
                section = self._sections[name] = Section(entries)
        return section

    def _sys_modules(self) -> Section:
        """Rebuilt only when a name was added, removed or rebound; imports only add to it."""
        section = self._sections.get(SYS_MODULES)
        modules = sys.modules
        versions = self._modules_version
        if AVAILABLE and (versions is None or versions.dicts[0] is not modules):
            versions = self._modules_version = DictVersions([modules])  # sys.modules itself was replaced
        now = versions.now() if versions is not None else []
        if section is not None:
            if versions is not None and now == versions.last:
                return section  # one read: the dict did not change
            # By identity, in C: == would call __eq__ on a mock in sys.modules, and a mock records
            # that call.
            if unchanged(modules.values(), len(modules), self._module_values):
                if versions is not None:
                    versions.last = now  # changed and put back, or rebound to the same objects
                return section
        values = list(modules.values())
        keys = list(modules)
        known = len(self._module_values)
        # map() stops at the shorter list: the first ``known`` of each, without copying them.
        appended = (section is not None and len(values) >= known and all(map(operator.is_, values, self._module_values))
                    and all(map(operator.is_, keys, self._module_keys)))
        added = list(zip(keys[known:], values[known:])) if appended else list(zip(keys, values))
        if appended and section is not None:
            section = Section(section, base=section, added=_sys_modules_entries(added))
        else:
            section = Section(_sys_modules_entries(added))
        self._sections[SYS_MODULES] = section
        self._module_keys, self._module_values = keys, values
        if versions is not None:
            versions.last = now
        own = [self._module(name, module) for name, module in added
               if self._is_own(name, module) and not _looks_like_test(module)]
        if appended and own:
            self._project = ModuleGroup(self._project.modules + own)
        elif not appended:
            self._bindings = {name: self._bindings[name] for name in keys if name in self._bindings}
            self._project = ModuleGroup(own)
            self._test_modules = {name: group for name, group in self._test_modules.items()
                                  if name in self._bindings}
        return section

    def _module(self, name: str, module: Any) -> Tuple[str, Dict[str, Any], Bindings]:
        """A module's names as last read, kept while the module is the same object."""
        namespace = namespace_of(module)
        known = self._bindings.get(name)
        if known is None or known[0] is not namespace:
            known = self._bindings[name] = (namespace, Bindings())
        return name, namespace, known[1]

    def _logging_watch(self) -> List[Any]:
        """The loggers, their handlers and disabled flags (bools: identity compares them too)."""
        entries = [logging.root, *logging.Logger.manager.loggerDict.values()]  # with placeholders
        if not same_objects(entries, self._logger_entries):
            self._logger_entries = entries
            self._loggers = [logger for logger in entries if isinstance(logger, logging.Logger)]
        loggers = self._loggers
        return [*entries, *chain.from_iterable(map(HANDLERS, loggers)), *map(DISABLED, loggers)]

    def _is_own(self, name: str, module: Any) -> bool:
        known = self._own_modules.get(name) if isinstance(module, types.ModuleType) else False
        if known is None:
            known = isinstance(module, types.ModuleType) and self.is_project_file(
                name, getattr(module, "__file__", None) or "")
            self._own_modules[name] = known
        return known

    def is_project_file(self, name: str, path: str) -> bool:
        """A module of the project (its tests too): under the root, not installed, not wsdoctor's."""
        return (os.path.abspath(path).startswith(self.root) and "site-packages" not in path
                and f"{os.sep}.wsdoctor{os.sep}" not in path and not name.startswith("wsdoctor"))

    def is_project_module_file(self, name: str, path: str) -> bool:
        """One of the project's modules that the process-wide snapshot holds (not a test file)."""
        return self.is_project_file(name, path) and not _is_test_file(path)

    def baseline(self, names: List[str]) -> Entries:
        """The entries of these modules as they are now: right after their first import."""
        self._sys_modules()
        section = self._project.section(set())
        prefixes = tuple(name + "." for name in names)
        seen = {"module-seen:" + name for name in names}
        return {key: value for key, value in section.items()
                if key in seen or key.partition(":")[2].startswith(prefixes)}


def diff(before: Snapshot, after: Snapshot) -> List[Change]:
    """Changes from ``before`` to ``after`` that persist: new imports are not pollution.

    A section missing from ``after`` was not looked at (a test module no longer running, a
    module no longer imported): nothing is said about it.
    """
    changes: List[Change] = []
    if after is before:
        return changes
    for name, section in after.items():
        old = before.get(name)
        if old is None and name.startswith(FILES_SECTION):
            continue  # a directory looked at for the first time (HOME was just set): nothing to compare
        if old is not section:
            changes += _diff_section(old or {}, section, before, after, removals=name != SYS_MODULES)
    changes.sort()
    return changes


def _diff_section(old_section: Entries, new_section: Section, before: Snapshot,
                  after: Snapshot, removals: bool) -> List[Change]:
    changes: List[Change] = []
    news = new_section.added.items() if new_section.base is old_section else (
        new_section.items() - old_section.items())  # set operations on dict views run in C
    for key, value in news:
        old = old_section.get(key)
        if old is None and _is_plain_addition(key, value, before, after):
            continue
        changes.append((key, old, value))
    if removals:
        changes += [(key, old_section[key], None) for key in old_section.keys() - new_section.keys()]
    return changes


def _is_plain_addition(key: str, value: str, before: Snapshot, after: Snapshot) -> bool:
    kind, _, name = key.partition(":")
    if kind == "sys.modules":
        return value.startswith("module ")
    if kind in ("module-attr", "class-attr"):
        # The globals of a module imported (or first looked at) just now are new, not changed.
        parts = name.split(".")
        for end in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:end])
            if _has_seen(after, module):
                return not _has_seen(before, module)
        return True
    return kind == "module-seen"


def _has_seen(state: Snapshot, module: str) -> bool:
    return ("module-seen:" + module in state.get(PROJECT_SECTION, ())
            or MODULE_SECTION + module in state)


def _sys_modules_entries(modules: List[Tuple[str, Any]]) -> Entries:
    return {"sys.modules:" + name: ("module" if isinstance(value, types.ModuleType)
                                    else type(value).__name__) + f" @{id(value):x}"
            for name, value in modules}


def _looks_like_test(module: Any) -> bool:
    return _is_test_file(getattr(module, "__file__", "") or "")


def _is_test_file(path: str) -> bool:
    """A test file (conftest.py is not one: it often holds state shared by many tests)."""
    base = os.path.basename(path)
    return base.startswith("test_") or base.endswith("_test.py")


def with_baselines(before: Snapshot, baselines: Entries) -> Snapshot:
    """``before``, and the modules first imported since as they were right after their import:
    what changed them after that is a change, not a new import."""
    if not baselines:
        return before
    merged = dict(before)
    merged[PROJECT_SECTION] = Section({**baselines, **before.get(PROJECT_SECTION, {})})
    return merged
