"""Fingerprints of process-global state, taken inside the child (stdlib only, Python 3.9+).

A snapshot is a flat map ``"kind:name" -> short text``. Comparing two snapshots
names what a test (or the import of a test file) changed and left changed:
the reference list is CPython's regrtest ``save_env``, plus the module-level
state of the project's own modules, where test pollution usually lives.
Warnings filters are left out: pytest restores them around every test.

Everything here must stay cheap (well under a millisecond for a small
project): it runs once per test.
"""

from __future__ import annotations

import asyncio
import logging
import operator
import os
import signal
import sys
import threading
import types
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

Snapshot = Dict[str, Any]  # "kind:name" -> text; SYS_MODULES -> that section, one shared dict
SYS_MODULES = "sys.modules"
Change = Tuple[str, Optional[str], Optional[str]]  # key, before, after (None: absent)

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


class StateProbe:
    """Snapshots scoped to one project: its modules are the ones under ``root``.

    The process-wide snapshot leaves test modules out (there are many, and a
    test seldom changes another test module's globals); a test's own module is
    fingerprinted separately, before and after that test.
    """

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root) + os.sep
        self._own_modules: Dict[str, bool] = {}
        self._module_values: List[Any] = []
        self._signal_texts: Dict[int, str] = {}
        self._module_section: Dict[str, str] = _Section()
        self._environ_data: Any = None
        self._environ_section: Snapshot = {}
        self._scanned: List[Tuple[str, Any]] = []  # own, non-test modules
        self._fds: Tuple[str, ...] = ()
        self._sockets: Snapshot = {}

    def snapshot(self) -> Snapshot:
        state: Snapshot = {}
        self._sys_modules(state)
        expanded: Set[int] = set()
        for name, module in self._scanned:
            _module_state(state, name, module, expanded)
        self._environment(state)
        _threads(state)
        state.update(self._listening_sockets())
        _patchers(state)
        _logging(state)
        self._signals(state)
        _event_loop_policy(state)
        return state

    def _signals(self, state: Snapshot) -> None:
        texts = self._signal_texts
        for name, number in _SIGNAL_NUMBERS:
            handler = signal.getsignal(number)
            text = texts.get(id(handler))
            if text is None:
                text = texts[id(handler)] = getattr(handler, "__qualname__", None) or repr(handler)
            state["signal:" + name] = text

    def module_snapshot(self, module: Any) -> Snapshot:
        """The globals of one (test) module."""
        state: Snapshot = {}
        name = getattr(module, "__name__", None)
        if name is not None and self._is_own(name, module):
            _module_state(state, name, module, set())
        return state

    def _sys_modules(self, state: Snapshot) -> None:
        """The sys.modules part, rebuilt only when a name was added, removed or rebound."""
        # By identity, in C: == would call __eq__ on a mock in sys.modules, and a mock records
        # that call. Unchanged modules cost next to nothing.
        values = list(sys.modules.values())
        same = len(values) == len(self._module_values) and all(
            map(operator.is_, values, self._module_values))
        if not same:
            keys = list(sys.modules)
            self._module_values = values
            modules = list(zip(keys, values))
            self._module_section = _Section({
                "sys.modules:" + name: ("module" if isinstance(value, types.ModuleType)
                                        else type(value).__name__) + f" @{id(value):x}"
                for name, value in modules})
            self._scanned = [(name, module) for name, module in modules
                             if self._is_own(name, module) and not _looks_like_test(module)]
        # One object for as long as nothing changes: diff() skips it by identity.
        state[SYS_MODULES] = self._module_section

    def _environment(self, state: Snapshot) -> None:
        data = getattr(os.environ, "_data", None)  # the raw mapping behind os.environ, on POSIX
        if data is None or data != self._environ_data:
            self._environ_data = dict(data) if data is not None else None
            self._environ_section = {}
            _environment(self._environ_section)
        state.update(self._environ_section)
        try:
            state["cwd:"] = os.getcwd()
        except OSError:
            state["cwd:"] = "<deleted>"
        for entry in sys.path:
            state["sys.path:" + entry] = "present"

    def _listening_sockets(self) -> Snapshot:
        """LISTEN sockets this process holds (Linux /proc), re-read only when its fds change."""
        try:
            fds = tuple(os.listdir("/proc/self/fd"))
        except OSError:
            return {}
        if fds != self._fds:
            self._fds, self._sockets = fds, _sockets(fds)
        return self._sockets

    def _is_own(self, name: str, module: Any) -> bool:
        known = self._own_modules.get(name) if isinstance(module, types.ModuleType) else False
        if known is None:
            path = getattr(module, "__file__", None) or ""
            known = (isinstance(module, types.ModuleType) and os.path.abspath(path).startswith(self.root)
                     and "site-packages" not in path and f"{os.sep}.wsdoctor{os.sep}" not in path
                     and not name.startswith("wsdoctor"))
            self._own_modules[name] = known
        return known


def diff(before: Snapshot, after: Snapshot) -> List[Change]:
    """Changes from ``before`` to ``after`` that persist: new imports are not pollution."""
    changes: List[Change] = []
    if before.get(SYS_MODULES) is not after.get(SYS_MODULES):
        changes += _diff_flat(before.get(SYS_MODULES, {}), after.get(SYS_MODULES, {}), before, after)
    changes += _diff_flat(before, after, before, after)
    changes.sort()
    return changes


class _Section(Dict[str, str]):
    """A snapshot section that hashes and compares by identity: it is rebuilt when it changes."""

    __hash__ = object.__hash__  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        return self is other


def _diff_flat(old_state: Snapshot, new_state: Snapshot, before: Snapshot, after: Snapshot) -> List[Change]:
    changes: List[Change] = []
    for key, value in new_state.items() - old_state.items():  # set operations on dict views run in C
        if key == SYS_MODULES:
            continue
        old = old_state.get(key)
        if old is None and _is_plain_addition(key, value, before, after):
            continue
        changes.append((key, old, value))
    for key in old_state.keys() - new_state.keys():
        if key != SYS_MODULES and not key.startswith("sys.modules:"):
            changes.append((key, old_state[key], None))
    return changes


def _is_plain_addition(key: str, value: str, before: Snapshot, after: Snapshot) -> bool:
    kind, _, name = key.partition(":")
    if kind == "sys.modules":
        return value.startswith("module ")
    if kind in ("module-attr", "class-attr"):
        # The globals of a module imported just now are new, not changed.
        parts = name.split(".")
        for end in range(len(parts) - 1, 0, -1):
            module = "module-seen:" + ".".join(parts[:end])
            if module in after:
                return module not in before
        return True
    return kind == "module-seen"


# --- the probes ---------------------------------------------------------------


def _looks_like_test(module: Any) -> bool:
    """A test file (conftest.py is not one: it often holds state shared by many tests)."""
    base = os.path.basename(getattr(module, "__file__", "") or "")
    return base.startswith("test_") or base.endswith("_test.py")


def _module_state(state: Snapshot, module_name: str, module: Any, expanded: Set[int]) -> None:
    state["module-seen:" + module_name] = ""
    try:
        namespace = list(vars(module).items())
    except TypeError:
        return
    for name, value in namespace:
        if name.startswith("__"):
            continue
        if isinstance(value, type) and getattr(value, "__module__", None) == module_name:
            _class_state(state, f"{module_name}.{name}", value)
            continue
        if isinstance(value, _SKIPPED_TYPES) or _is_pytest_object(value):
            continue
        if id(value) in expanded:
            continue  # already described under its home module
        key = f"{module_name}.{name}"
        if isinstance(value, _SCALARS):
            state["module-attr:" + key] = _scalar_text(value)
            continue
        state["module-attr:" + key] = fingerprint(value)
        if isinstance(value, _CONTAINERS) or _is_plain_instance(value):
            expanded.add(id(value))
        if _is_plain_instance(value):
            _instance_state(state, key, value)


_SCALAR_TEXTS: Dict[int, Tuple[Any, str]] = {}


def _scalar_text(value: Any) -> str:
    """repr() of an immutable value, cached; the cache holds the value so its id is not reused."""
    known = _SCALAR_TEXTS.get(id(value))
    if known is None or known[0] is not value:
        known = _SCALAR_TEXTS[id(value)] = (value, _clip(repr(value)))
    return known[1]


def _class_state(state: Snapshot, key: str, cls: type) -> None:
    for name, value in list(vars(cls).items())[:MAX_ATTRS]:
        if name.startswith("__") or isinstance(value, (types.FunctionType, classmethod, staticmethod,
                                                        property)):
            continue
        state[f"class-attr:{key}.{name}"] = fingerprint(value)


def _instance_state(state: Snapshot, key: str, obj: Any) -> None:
    try:
        attributes = list(vars(obj).items())[:MAX_ATTRS]
    except TypeError:
        return
    for name, value in attributes:
        state[f"module-attr:{key}.{name}"] = fingerprint(value)


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


def _is_pytest_object(value: Any) -> bool:
    return type(value).__module__.startswith(("_pytest", "pytest"))


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


def _environment(state: Snapshot) -> None:
    for name, value in os.environ.items():
        if not name.startswith("PYTEST_"):
            state["environ:" + name] = _clip(value)



def _threads(state: Snapshot) -> None:
    for thread in threading.enumerate():
        if thread is not threading.main_thread():
            state[f"thread:{thread.name}"] = "daemon" if thread.daemon else "alive"


def _sockets(fds: Iterable[str]) -> Snapshot:
    state: Snapshot = {}
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


def _patchers(state: Snapshot) -> None:
    mock = sys.modules.get("unittest.mock")
    active = getattr(getattr(mock, "_patch", None), "_active_patches", None) or []
    for patcher in active:
        target = getattr(patcher, "getter", None)
        owner = target() if callable(target) else None
        owner_name = getattr(owner, "__name__", type(owner).__name__)
        state[f"patcher:{owner_name}.{getattr(patcher, 'attribute', '?')}"] = "active"


def _logging(state: Snapshot) -> None:
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


def _event_loop_policy(state: Snapshot) -> None:
    policy = getattr(asyncio.events, "_event_loop_policy", None)
    loop = getattr(getattr(policy, "_local", None), "_loop", None)
    if loop is not None:
        state["event-loop:current"] = f"set, {_loop_state(loop)}"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."
