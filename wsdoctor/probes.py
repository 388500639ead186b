"""Fingerprints of process-global state, taken inside the child (stdlib only, Python 3.9+).

A snapshot maps section names (``sys.modules``, ``project-modules``, ``environ``, ...; and
``module:tests.test_x`` for the running test's own module) to sections, flat maps
``"kind:name" -> short text``. Comparing two snapshots names what a test
(or the import of a test file) changed and left changed: the reference list is CPython's
regrtest ``save_env``, plus the module-level state of the project's own modules, where test
pollution usually lives. Warnings filters are left out: pytest restores them around every test.

Everything here must stay cheap: it runs once per test. A section that did not change is the
very object of the previous snapshot, so comparing it costs one identity check; what a section
is built from is compared by identity (in C) before anything is rebuilt, and the globals of a
module are re-read only when a name in it was rebound (see ``_ModuleGroup``).
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # C module behind signal: no stub
import asyncio
import logging
import operator
import os
import signal
import sys
import threading
import types
from itertools import chain
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

Snapshot = Dict[str, "_Section"]  # section name -> its entries
SYS_MODULES = "sys.modules"
PROJECT_SECTION = "project-modules"
MODULE_SECTION = "module:"  # + the name of a test module
Change = Tuple[str, Optional[str], Optional[str]]  # key, before, after (None: absent)
Pair = Tuple[str, str]
Entries = Dict[str, str]

MAX_TEXT = 120
MAX_KEYS_SHOWN = 6
MAX_ATTRS = 200
MAX_KEYED = 200  # larger containers are fingerprinted by size only: sorting keys costs
SIGNALS = ("SIGINT", "SIGTERM", "SIGALRM", "SIGUSR1", "SIGUSR2", "SIGCHLD", "SIGHUP")
_SIGNAL_NUMBERS = [(name, getattr(signal, name)) for name in SIGNALS if hasattr(signal, name)]
_SCALARS = (type(None), bool, int, float, str, bytes)
_CONTAINERS = (dict, list, set, frozenset, tuple)
_SKIPPED_TYPES = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                  type)


class _Section(Dict[str, str]):
    """A snapshot section that hashes and compares by identity: it is rebuilt when it changes.

    One made by adding entries to another names it as ``base``, and the added keys, so that
    comparing the two looks at those keys only.
    """

    __slots__ = ("added", "base")
    __hash__ = object.__hash__  # type: ignore[assignment]

    def __init__(self, entries: Iterable[Any] = (), base: Optional[_Section] = None,
                 added: Optional[Entries] = None) -> None:
        super().__init__(entries)
        self.base = base
        self.added: Entries = added or {}
        if added:
            self.update(added)
            if base is not None:
                base.base = None  # one step back is enough: no chain of old sections

    def __eq__(self, other: object) -> bool:
        return self is other


def _same_objects(new: List[Any], old: List[Any]) -> bool:
    return len(new) == len(old) and all(map(operator.is_, new, old))


def _unchanged(objects: Iterable[Any], size: int, old: List[Any]) -> bool:
    """_same_objects() without building a list first: the check that runs on every test."""
    return size == len(old) and all(map(operator.is_, objects, old))


class StateProbe:
    """Snapshots scoped to one project: its modules are the ones under ``root``.

    Test modules are left out of the process-wide part (there are many, and a test seldom
    changes another test module's globals); ``snapshot(module)`` adds the running test's own.
    """

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root) + os.sep
        self._own_modules: Dict[str, bool] = {}
        self._module_keys: List[str] = []
        self._module_values: List[Any] = []
        self._bindings: Dict[str, Tuple[Dict[str, Any], _Bindings]] = {}  # module -> namespace, names
        self._project = _ModuleGroup([])  # the project's own modules, but for test modules
        self._test_modules: Dict[str, _ModuleGroup] = {}
        self._sections: Snapshot = {}  # the last section of each name
        self._watched: Dict[str, Any] = {}  # what each section was last built from
        self._by_value: List[Any] = []  # what the process sections were last built from
        self._by_identity: List[Any] = []
        self._process: Snapshot = {}
        self._logger_entries: List[Any] = []
        self._open_files = _OpenFiles()
        self._loggers: List[logging.Logger] = []

    def snapshot(self, test_module: Any = None) -> Snapshot:
        state: Snapshot = {SYS_MODULES: self._sys_modules()}
        described: Set[int] = set()
        state[PROJECT_SECTION] = self._project.section(described)
        self._add_test_module(state, test_module, described)
        state.update(self._process_sections())
        return state

    def _process_sections(self) -> Snapshot:
        """Environment, threads, sockets, patchers, logging, signals, event loop: all reused at
        once while nothing they are built from changed (texts and numbers compared by value,
        objects by identity), else each rebuilt when what it is built from changed."""
        environ = getattr(os.environ, "_data", None)  # the raw mapping behind os.environ, on POSIX
        by_value = [environ, _cwd(), self._open_files.now(), *sys.path]
        threads, patches, loggers = threading.enumerate(), _active_patches(), self._logging_watch()
        # _signal's getsignal, not signal's: that one turns SIG_DFL and SIG_IGN into enums, slowly.
        handlers = [_signal.getsignal(number) for _, number in _SIGNAL_NUMBERS]
        loop = _current_loop()
        by_identity = [*threads, *patches, *loggers, *handlers, *loop]
        if by_value == self._by_value and _same_objects(by_identity, self._by_identity):
            return self._process
        self._by_value = [dict(environ) if environ is not None else None, *by_value[1:]]
        self._by_identity = by_identity
        self._process = {
            "environ": self._section("environ", environ, _environment, operator.eq, copy=dict),
            "process": self._section("process", by_value[1:2] + by_value[3:], _process, operator.eq),
            "threads": self._section("threads", threads, _threads),
            "sockets": self._section("sockets", by_value[2], _sockets, operator.eq),
            "patchers": self._section("patchers", patches, _patchers),
            "logging": self._section("logging", loggers, _logging),
            "signals": self._section("signals", handlers, _signal_entries),
            "event-loop": self._section("event-loop", loop, _event_loop),
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
                group = self._test_modules[name] = _ModuleGroup([self._module(name, module)])
            state[MODULE_SECTION + name] = group.section(described)

    def _section(self, name: str, watched: Any, build: Callable[[Any], Entries],
                 same: Callable[[Any, Any], bool] = _same_objects,
                 copy: Optional[Callable[[Any], Any]] = None) -> _Section:
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
                section = self._sections[name] = _Section(entries)
        return section

    def _sys_modules(self) -> _Section:
        """Rebuilt only when a name was added, removed or rebound; imports only add to it."""
        # By identity, in C: == would call __eq__ on a mock in sys.modules, and a mock records
        # that call. Unchanged modules cost next to nothing.
        section = self._sections.get(SYS_MODULES)
        if section is not None and _unchanged(sys.modules.values(), len(sys.modules), self._module_values):
            return section
        values = list(sys.modules.values())
        keys = list(sys.modules)
        known = len(self._module_values)
        appended = (section is not None and _same_objects(values[:known], self._module_values)
                    and _same_objects(keys[:known], self._module_keys))
        added = list(zip(keys[known:], values[known:])) if appended else list(zip(keys, values))
        if appended and section is not None:
            section = _Section(section, base=section, added=_sys_modules_entries(added))
        else:
            section = _Section(_sys_modules_entries(added))
        self._sections[SYS_MODULES] = section
        self._module_keys, self._module_values = keys, values
        own = [self._module(name, module) for name, module in added
               if self._is_own(name, module) and not _looks_like_test(module)]
        if appended and own:
            self._project = _ModuleGroup(self._project.modules + own)
        elif not appended:
            self._bindings = {name: self._bindings[name] for name in keys if name in self._bindings}
            self._project = _ModuleGroup(own)
            self._test_modules = {name: group for name, group in self._test_modules.items()
                                  if name in self._bindings}
        return section

    def _module(self, name: str, module: Any) -> Tuple[str, Dict[str, Any], _Bindings]:
        """A module's names as last read, kept while the module is the same object."""
        namespace = _namespace(module)
        known = self._bindings.get(name)
        if known is None or known[0] is not namespace:
            known = self._bindings[name] = (namespace, _Bindings())
        return name, namespace, known[1]

    def _logging_watch(self) -> List[Any]:
        """The loggers, their handlers and disabled flags (bools: identity compares them too)."""
        entries = [logging.root, *logging.Logger.manager.loggerDict.values()]  # with placeholders
        if not _same_objects(entries, self._logger_entries):
            self._logger_entries = entries
            self._loggers = [logger for logger in entries if isinstance(logger, logging.Logger)]
        loggers = self._loggers
        return [*entries, *chain.from_iterable(map(_HANDLERS, loggers)), *map(_DISABLED, loggers)]

    def _is_own(self, name: str, module: Any) -> bool:
        known = self._own_modules.get(name) if isinstance(module, types.ModuleType) else False
        if known is None:
            path = getattr(module, "__file__", None) or ""
            known = (isinstance(module, types.ModuleType) and os.path.abspath(path).startswith(self.root)
                     and "site-packages" not in path and f"{os.sep}.wsdoctor{os.sep}" not in path
                     and not name.startswith("wsdoctor"))
            self._own_modules[name] = known
        return known


def _signal_entries(handlers: List[Any]) -> Entries:
    return {"signal:" + name: _handler_text(handler) for (name, _), handler in zip(_SIGNAL_NUMBERS, handlers)}


def _handler_text(handler: Any) -> str:
    if isinstance(handler, int) and handler in (signal.SIG_DFL, signal.SIG_IGN):
        return repr(signal.Handlers(handler))
    return getattr(handler, "__qualname__", None) or repr(handler)


def diff(before: Snapshot, after: Snapshot) -> List[Change]:
    """Changes from ``before`` to ``after`` that persist: new imports are not pollution.

    A section missing from ``after`` was not looked at (a test module no longer running, a
    module no longer imported): nothing is said about it.
    """
    changes: List[Change] = []
    for name, section in after.items():
        old = before.get(name)
        if old is not section:
            changes += _diff_section(old or {}, section, before, after, removals=name != SYS_MODULES)
    changes.sort()
    return changes


def _diff_section(old_section: Entries, new_section: _Section, before: Snapshot,
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


# --- the probes ---------------------------------------------------------------


def _sys_modules_entries(modules: List[Tuple[str, Any]]) -> Entries:
    return {"sys.modules:" + name: ("module" if isinstance(value, types.ModuleType)
                                    else type(value).__name__) + f" @{id(value):x}"
            for name, value in modules}


def _looks_like_test(module: Any) -> bool:
    """A test file (conftest.py is not one: it often holds state shared by many tests)."""
    base = os.path.basename(getattr(module, "__file__", "") or "")
    return base.startswith("test_") or base.endswith("_test.py")


class _Bindings:
    """The names of one namespace (a module's, a class's, an object's) as last read.

    Re-read only when a name was added, removed or rebound, compared by identity in C. Texts
    that depend only on the bound object are kept (``fixed``); values that can change in place
    (containers, mocks, objects' attributes) are in ``live`` and fingerprinted every time.
    Holding the values also keeps their ids from being reused while they are compared.
    """

    __slots__ = ("fixed", "keys", "live", "values")

    def __init__(self) -> None:
        self.keys: List[str] = []
        self.values: List[Any] = []
        self.fixed: List[Pair] = []
        self.live: List[Any] = []

    def up_to_date(self, namespace: Any) -> bool:
        """True when nothing was rebound since the last call; otherwise start over from ``namespace``."""
        values = list(namespace.values())
        keys = list(namespace)
        if _same_objects(values, self.values) and _same_objects(keys, self.keys):
            return True
        self.keys, self.values, self.fixed, self.live = keys, values, [], []
        return False

    def read_module(self, module_name: str) -> None:
        for name, value in zip(self.keys, self.values):
            if name.startswith("__"):
                continue
            key = f"{module_name}.{name}"
            if isinstance(value, type) and getattr(value, "__module__", None) == module_name:
                self.live.append(("class-attr:" + key, value, _Bindings(), None))
            elif isinstance(value, _SKIPPED_TYPES) or _is_tooling_object(value):
                continue
            elif isinstance(value, _SCALARS):
                self.fixed.append(("module-attr:" + key, _clip(repr(value))))
            else:
                plain = _is_plain_instance(value) and _has_vars(value)
                self.live.append(("module-attr:" + key, value, _Bindings() if plain else None,
                                  _text_source(value)))


class _ModuleGroup:
    """The globals of some modules as one section.

    While nothing was rebound in them (one identity check, in C, over all the names of the
    modules and of the classes and objects described in them), only the values that can
    change in place are looked at, and while those did not change the section is reused.
    """

    def __init__(self, modules: List[Tuple[str, Dict[str, Any], _Bindings]]) -> None:
        self.modules = modules
        self._namespaces: List[Any] = []  # the modules' and those of their classes and objects
        self._values: List[Any] = []
        self._fixed: Entries = {}
        self._live: List[Tuple[str, Callable[[], str]]] = []
        self.described: Set[int] = set()  # ids of the values described here
        self._described_before: Set[int] = set()  # ... and those described elsewhere, then
        self._pairs: List[Pair] = []
        self._section: Optional[_Section] = None

    def section(self, described: Set[int]) -> _Section:
        """This group's section; ``described`` holds the ids of values described already
        (a test module's ``from app.registry import REGISTRY`` is described under app.registry)."""
        size = sum(map(len, self._namespaces))
        values = chain.from_iterable(map(_VALUES, self._namespaces))
        if self._section is not None and _unchanged(values, size, self._values) \
                and described == self._described_before:
            described |= self.described
        else:
            self._read(described)
        pairs = [(key, text()) for key, text in self._live]
        if self._section is None or pairs != self._pairs:
            self._pairs, self._section = pairs, _Section(self._fixed)
            self._section.update(pairs)
        return self._section

    def _read(self, described: Set[int]) -> None:
        self._described_before = set(described)
        self._namespaces, self._fixed, self._live = [], {}, []
        for name, namespace, bindings in self.modules:
            if not bindings.up_to_date(namespace):
                bindings.read_module(name)
            self._namespaces.append(namespace)
            self._fixed["module-seen:" + name] = ""
            self._fixed.update(bindings.fixed)
            for key, value, inner, text in bindings.live:
                if text is None:  # a class of this module
                    self._attributes(key, vars(value), inner, _is_class_attribute)
                    continue
                if id(value) in described:
                    continue  # already described under its home module
                described.add(id(value))
                self._live.append((key, text))
                if inner is not None:
                    self._attributes(key, vars(value), inner, _is_any_attribute)
        self.described = described - self._described_before
        self._values = list(chain.from_iterable(map(_VALUES, self._namespaces)))
        self._section = None

    def _attributes(self, prefix: str, namespace: Any, bindings: _Bindings,
                    wanted: Callable[[str, Any], bool]) -> None:
        """The attributes of a class or an object, as ``prefix.name``."""
        if not bindings.up_to_date(namespace):
            for name, value in list(zip(bindings.keys, bindings.values))[:MAX_ATTRS]:
                if not wanted(name, value):
                    continue
                key = f"{prefix}.{name}"
                if isinstance(value, _SCALARS):
                    bindings.fixed.append((key, _clip(repr(value))))
                else:
                    bindings.live.append((key, None, None, _text_source(value)))
        self._namespaces.append(namespace)
        self._fixed.update(bindings.fixed)
        self._live += [(key, text) for key, _, _, text in bindings.live]


_VALUES = operator.methodcaller("values")


def _namespace(module: Any) -> Dict[str, Any]:
    try:
        namespace = vars(module)
    except TypeError:
        return {}
    return namespace if isinstance(namespace, dict) else dict(namespace)


def _text_source(value: Any) -> Callable[[], str]:
    """What gives fingerprint(value) now, as cheaply as it can be known."""
    if isinstance(value, _CONTAINERS):
        return _ContainerText(value)
    if _is_mock(value) or _is_lru_cache(value) or type(value).__module__.startswith("asyncio"):
        return lambda: fingerprint(value)
    text = fingerprint(value)  # "Type @id": nothing but the object itself
    return lambda: text


class _ContainerText:
    """fingerprint() of a container, recomputed only when an item was added, removed or
    replaced (by identity), or a container among its items changed size."""

    __slots__ = ("inner", "items", "sizes", "text", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.items: Optional[List[Any]] = None
        self.inner: List[Any] = []
        self.sizes: List[int] = []
        self.text = ""

    def __call__(self) -> str:
        value = self.value
        if len(value) > MAX_KEYED:
            return fingerprint(value)  # its size only: as cheap as a check
        items = [*value, *value.values()] if isinstance(value, dict) else list(value)
        if self.items is not None and _same_objects(items, self.items) and (
                not self.inner or list(map(len, self.inner)) == self.sizes):
            return self.text
        self.items = items
        self.inner = [item for item in (value.values() if isinstance(value, dict) else value)
                      if isinstance(item, _CONTAINERS)]
        self.sizes = list(map(len, self.inner))
        self.text = fingerprint(value)
        return self.text


def _is_class_attribute(name: str, value: Any) -> bool:
    return not name.startswith("__") and not isinstance(
        value, (types.FunctionType, classmethod, staticmethod, property))


def _is_any_attribute(name: str, value: Any) -> bool:
    return True


def _has_vars(value: Any) -> bool:
    try:
        vars(value)
    except TypeError:
        return False
    return True


def _is_plain_instance(value: Any) -> bool:
    """A singleton-like object whose attributes are worth a look (not a mock, not a container)."""
    if isinstance(value, _SCALARS + _CONTAINERS) or _is_mock(value) or _is_lru_cache(value):
        return False
    if not isinstance(getattr(type(value), "__dict__", None), types.MappingProxyType):
        return False
    return not type(value).__module__.startswith(("asyncio", "threading", "logging", "_pytest"))


def _is_mock(value: Any) -> bool:
    # Never touch a mock's attributes: that creates children and records calls.
    return type(value).__module__ == "unittest.mock"


def _is_lru_cache(value: Any) -> bool:
    return type(value).__name__ == "_lru_cache_wrapper"


def _is_tooling_object(value: Any) -> bool:
    """pytest's objects, and ``from __future__ import annotations`` features."""
    return type(value).__module__.startswith(("_pytest", "pytest", "__future__"))


def fingerprint(value: Any) -> str:
    """A short text that changes when the value does in ways tests trip over."""
    if isinstance(value, _SCALARS):
        return _clip(repr(value))
    if isinstance(value, _CONTAINERS):
        return _container(value)
    if _is_mock(value):
        calls = object.__getattribute__(value, "__dict__").get("_mock_call_count")
        return f"{type(value).__name__} calls={calls} @{id(value):x}"
    if _is_lru_cache(value):
        return f"lru_cache currsize={value.cache_info().currsize}"
    asyncio_text = _asyncio_object(value)
    if asyncio_text:
        return asyncio_text
    return f"{type(value).__name__} @{id(value):x}"


def _container(value: Any) -> str:
    kind = type(value).__name__
    size = len(value)
    if isinstance(value, dict) and 0 < size <= MAX_KEYS_SHOWN and all(
            isinstance(v, _SCALARS) for v in value.values()):
        # A flag flipped in place changes neither the size nor the keys: show the values.
        return _clip(f"{kind} len={size} {dict(sorted(value.items(), key=lambda item: repr(item[0])))!r}")
    if isinstance(value, (dict, set, frozenset)) and 0 < size <= MAX_KEYED:
        try:
            keys = sorted((repr(k) for k in value), key=str)[:MAX_KEYS_SHOWN]
        except Exception:  # exotic keys: the size is still evidence
            return f"{kind} len={size}"
        more = ", ..." if size > MAX_KEYS_SHOWN else ""
        return _clip(f"{kind} len={size}{_inner_size(value)} keys=[{', '.join(keys)}{more}]")
    return f"{kind} len={size}{_inner_size(value)}"


def _inner_size(value: Any) -> str:
    """Items held one level down: a channel -> sockets map grows inside its lists."""
    if len(value) > MAX_KEYED:
        return ""
    items = value.values() if isinstance(value, dict) else value
    inner = [len(item) for item in items if isinstance(item, _CONTAINERS)]
    return f" (holding {sum(inner)})" if inner else ""


def _asyncio_object(value: Any) -> str:
    if isinstance(value, asyncio.AbstractEventLoop):
        return f"event loop ({_loop_state(value)})"
    if isinstance(value, asyncio.Future):
        state = "done" if value.done() else "pending"
        return f"{type(value).__name__} {state}, loop {_loop_state(value.get_loop())}"
    if type(value).__module__.startswith("asyncio"):
        loop = _bound_loop(value)
        if loop is not None:
            return f"{type(value).__name__} bound to a loop that is {_loop_state(loop)}"
        return f"{type(value).__name__} unbound"
    return ""


def _bound_loop(value: Any) -> Any:
    """The loop an asyncio primitive is bound to, its own or that of a primitive inside it
    (a Queue binds through the Event its join() waits on)."""
    own = getattr(value, "_loop", None)
    if own is not None:
        return own
    for inner in vars(value).values() if hasattr(value, "__dict__") else ():
        if type(inner).__module__.startswith("asyncio") and getattr(inner, "_loop", None) is not None:
            return inner._loop
    return None


def _loop_state(loop: Any) -> str:
    if loop.is_closed():
        return "closed"
    return "running" if loop.is_running() else "open"


def _environment(_: Any) -> Entries:
    return {"environ:" + name: _clip(value) for name, value in os.environ.items()
            if not name.startswith("PYTEST_")}


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return "<deleted>"


def _process(cwd_and_path: List[str]) -> Entries:
    cwd, *path = cwd_and_path
    entries = {"sys.path:" + entry: "present" for entry in path}
    entries["cwd:"] = cwd
    return entries


def _threads(threads: List[threading.Thread]) -> Entries:
    main = threading.main_thread()
    return {f"thread:{thread.name}": "daemon" if thread.daemon else "alive"
            for thread in threads if thread is not main}


class _OpenFiles:
    """What changes when this process opens or closes a file or a socket (Linux /proc).

    Linux 6.2+ gives the number of open fds as the size of /proc/PID/fd. Asked through a
    descriptor kept open on that directory, that costs a third of listing them, and a new fd
    takes the lowest free number, so the count changes when the listing would. Elsewhere, the
    listing itself; not on Linux, nothing (and no sockets section).
    """

    def __init__(self) -> None:
        self._fd: Optional[int] = None
        self._pid = 0
        self._identity: Tuple[int, int] = (0, 0)
        self._counts = True  # whether this kernel gives counts

    def now(self) -> Any:
        pid = os.getpid()
        if self._counts and self._fd is not None and self._pid == pid:
            try:
                info = os.fstat(self._fd)
                if (info.st_ino, info.st_dev) == self._identity:  # still ours, not closed and reused
                    return info.st_size
            except OSError:
                pass  # closed by a test: open another
        return self._open(pid) if self._counts else _fd_listing()

    def _open(self, pid: int) -> Any:
        try:
            fd = os.open(f"/proc/{pid}/fd", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            info = os.fstat(fd)
        except OSError:
            self._counts = False
            return _fd_listing()
        if not info.st_size:
            os.close(fd)
            self._counts = False
            return _fd_listing()
        self._fd, self._pid, self._identity = fd, pid, (info.st_ino, info.st_dev)
        return info.st_size


def _fd_listing() -> Optional[List[str]]:
    try:
        return os.listdir("/proc/self/fd")
    except OSError:
        return None


def _sockets(_: Any) -> Entries:
    """LISTEN sockets this process holds (Linux /proc)."""
    state: Entries = {}
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return state
    inodes = _socket_inodes(fds)
    if not inodes:
        return state
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for address, inode in _listening(table):
            if inode in inodes:
                state[f"socket:LISTEN {address}"] = "open"
    return state


def _socket_inodes(fds: Iterable[str]) -> Set[str]:
    inodes: Set[str] = set()
    for fd in fds:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _listening(table: str) -> List[Tuple[str, str]]:
    try:
        with open(table, encoding="ascii") as handle:
            lines = handle.readlines()[1:]
    except OSError:
        return []
    found = []
    for line in lines:
        fields = line.split()
        if len(fields) > 9 and fields[3] == "0A":  # 0A: TCP_LISTEN
            found.append((_address(fields[1]), fields[9]))
    return found


def _address(hex_address: str) -> str:
    host, port = hex_address.split(":")
    if len(host) == 8:
        octets = [str(int(host[i:i + 2], 16)) for i in (6, 4, 2, 0)]
        return f"{'.'.join(octets)}:{int(port, 16)}"
    return f"[{host}]:{int(port, 16)}"


def _active_patches() -> List[Any]:
    mock = sys.modules.get("unittest.mock")
    return list(getattr(getattr(mock, "_patch", None), "_active_patches", None) or [])


def _patchers(active: List[Any]) -> Entries:
    state: Entries = {}
    for patcher in active:
        target = getattr(patcher, "getter", None)
        owner = target() if callable(target) else None
        owner_name = getattr(owner, "__name__", type(owner).__name__)
        state[f"patcher:{owner_name}.{getattr(patcher, 'attribute', '?')}"] = "active"
    return state


_HANDLERS = operator.attrgetter("handlers")
_DISABLED = operator.attrgetter("disabled")




def _logging(_: Any) -> Entries:
    state: Entries = {}
    loggers = [("root", logging.getLogger())]
    loggers += [(name, logger) for name, logger in list(logging.Logger.manager.loggerDict.items())
                if isinstance(logger, logging.Logger)]
    for name, logger in loggers:
        handlers = [type(h).__name__ for h in logger.handlers
                    if not type(h).__module__.startswith("_pytest")]
        if handlers:
            state["logging:" + name] = ", ".join(handlers)
        if name != "root" and logger.disabled:
            state["logging-disabled:" + name] = "disabled"
    return state


def _current_loop() -> List[Any]:
    """The event loop set as current, and whether it is closed and running (False and True
    are single objects: an identity check sees them change)."""
    policy = getattr(asyncio.events, "_event_loop_policy", None)
    loop = getattr(getattr(policy, "_local", None), "_loop", None)
    return [] if loop is None else [loop, loop.is_closed(), loop.is_running()]


def _event_loop(current: List[Any]) -> Entries:
    return {"event-loop:current": f"set, {_loop_state(current[0])}"} if current else {}


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."
