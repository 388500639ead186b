"""What the probes see of namespaces: module globals, class attributes, the attributes of
singleton-like objects, and fingerprints of the values bound there (containers, mocks,
lru caches, asyncio objects). Stdlib only, Python 3.9+: this runs in the user's interpreter.
"""

from __future__ import annotations

import asyncio
import functools
import operator
import types
import weakref
from itertools import chain, repeat
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple, Union

from wsdoctor.child.dict_versions import AVAILABLE, DictVersions

Pair = Tuple[str, str]
Entries = Dict[str, str]

MAX_TEXT = 120
MAX_KEYS_SHOWN = 6
MAX_ATTRS = 200
MAX_KEYED = 200  # larger containers are fingerprinted by size only: sorting keys costs
SCALARS = (type(None), bool, int, float, str, bytes)
CONTAINERS = (dict, list, set, frozenset, tuple)
_SKIPPED_TYPES = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                  type)


class Section(Dict[str, str]):
    """A snapshot section that hashes and compares by identity: it is rebuilt when it changes.

    One made by adding entries to another names it as ``base``, and the added keys, so that
    comparing the two looks at those keys only.
    """

    __slots__ = ("added", "base")
    __hash__ = object.__hash__  # type: ignore[assignment]

    def __init__(self, entries: Iterable[Any] = (), base: Optional[Section] = None,
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


def same_objects(new: List[Any], old: List[Any]) -> bool:
    return len(new) == len(old) and all(map(operator.is_, new, old))


def unchanged(objects: Iterable[Any], size: int, old: List[Any]) -> bool:
    """same_objects() without building a list first: the check that runs on every test."""
    return size == len(old) and all(map(operator.is_, objects, old))




class Bindings:
    """The names of one namespace (a module's, a class's, an object's) as last read.

    Re-read only when a name was added, removed or rebound, compared by identity in C. Texts
    that depend only on the bound object are kept (``fixed``); values that can change in place
    (containers, mocks, objects' attributes) are in ``live`` and fingerprinted every time.
    Holding the values also keeps their ids from being reused while they are compared.
    """

    __slots__ = ("fixed", "functions", "keys", "live", "values")

    def __init__(self) -> None:
        self.keys: List[str] = []
        self.values: List[Any] = []
        self.fixed: List[Pair] = []
        self.live: List[Any] = []
        self.functions: List[Tuple[str, Any]] = []  # functions defined here: their defaults are state

    def up_to_date(self, namespace: Any) -> bool:
        """True when nothing was rebound since the last call; otherwise start over from ``namespace``."""
        values = list(namespace.values())
        keys = list(namespace)
        if same_objects(values, self.values) and same_objects(keys, self.keys):
            return True
        self.keys, self.values, self.fixed, self.live, self.functions = keys, values, [], [], []
        return False

    def read_module(self, module_name: str) -> None:
        for name, value in zip(self.keys, self.values):
            if name.startswith("__"):
                continue
            key = f"{module_name}.{name}"
            if isinstance(value, type) and getattr(value, "__module__", None) == module_name:
                self.live.append(("class-attr:" + key, value, Bindings(), None))
            elif isinstance(value, types.FunctionType):
                if getattr(value, "__module__", None) == module_name:
                    self.functions.append(("module-attr:" + key, value))
            elif isinstance(value, _SKIPPED_TYPES) or _is_tooling_object(value):
                continue
            elif isinstance(value, SCALARS):
                self.fixed.append(("module-attr:" + key, clip(repr(value))))
            else:
                plain = _is_plain_instance(value) and _has_vars(value)
                self.live.append(("module-attr:" + key, value, Bindings() if plain else None,
                                  _text_source(value)))


class ModuleGroup:
    """The globals of some modules as one section.

    While nothing was rebound in them (one identity check, in C, over all the names of the
    modules and of the classes and objects described in them), only the values that can
    change in place are looked at, and while those did not change the section is reused.
    """

    def __init__(self, modules: List[Tuple[str, Dict[str, Any], Bindings]], functions: bool = True) -> None:
        self.modules = modules
        self.with_functions = functions  # their defaults too (not for a test module's test functions)
        self._namespaces: List[Any] = []  # the modules'
        self._values: List[Any] = []  # ... their values, as last read
        self._versions: Optional[DictVersions] = None  # ... their dicts' versions, where there are
        self._inner: List[Any] = []  # the namespaces of their classes and objects
        self._functions: List[Any] = []  # the functions whose defaults are looked at
        self._inner_values: List[Any] = []  # the inner namespaces' values, then the functions' defaults
        self._fixed: Entries = {}
        self._live: List[Tuple[str, Callable[[], str]]] = []
        self._texts: List[Callable[[], str]] = []  # the second halves of _live
        self.described: Set[int] = set()  # ids of the values described here
        self._described_before: Set[int] = set()  # ... and those described elsewhere, then
        self._last_texts: List[str] = []
        self._section: Optional[Section] = None

    def section(self, described: Set[int]) -> Section:
        """This group's section; ``described`` holds the ids of values described already
        (a test module's ``from app.registry import REGISTRY`` is described under app.registry)."""
        if self._section is not None and described == self._described_before and self._unchanged():
            described |= self.described
        else:
            self._read(described)
        texts = [text() for text in self._texts]
        if self._section is None or texts != self._last_texts:
            self._last_texts, self._section = texts, Section(self._fixed)
            self._section.update(zip([key for key, _ in self._live], texts))
        return self._section

    def _unchanged(self) -> bool:
        """Nothing rebound since the last read, all compared by identity (in C): the attributes of
        the classes and objects, the functions' defaults, and the modules' globals (while their
        dicts' versions did not change, not even those)."""
        functions = self._functions
        inner = chain(chain.from_iterable(map(_VALUES, self._inner)), _defaults_of(functions))
        if not unchanged(inner, sum(map(len, self._inner)) + 2 * len(functions), self._inner_values):
            return False
        versions = self._versions
        now = versions.now() if versions is not None else []
        if versions is not None and now == versions.last:
            return True
        if not unchanged(chain.from_iterable(map(_VALUES, self._namespaces)), sum(map(len, self._namespaces)),
                         self._values):
            return False
        if versions is not None:
            versions.last = now  # changed and put back
        return True

    def _read(self, described: Set[int]) -> None:
        """Every name of the modules, their classes and objects, with what it binds.

        A value bound under several names of the group (``from app.convertors import
        CONVERTOR_TYPES`` in another module) is described under each: rebinding one of them
        leaves the others holding it, and what a test did to it stays theirs. A value described
        by an earlier group (the project's, for a test module) is not described again.
        """
        self._described_before = set(described)
        versions = DictVersions([namespace for _, namespace, _ in self.modules]) if AVAILABLE else None
        now = versions.now() if versions is not None else []  # before the globals are read
        self._namespaces, self._inner, self._fixed, self._live, functions = [], [], {}, [], []
        for name, namespace, bindings in self.modules:
            if not bindings.up_to_date(namespace):
                bindings.read_module(name)
            self._namespaces.append(namespace)
            self._fixed["module-seen:" + name] = ""
            self._fixed.update(bindings.fixed)
            functions += bindings.functions
            for key, value, inner, text in bindings.live:
                if text is None:  # a class of this module
                    functions += self._attributes(key, vars(value), inner, _is_class_attribute)
                    continue
                if id(value) in self._described_before:
                    continue  # described by an earlier group
                described.add(id(value))
                self._live.append((key, text))
                if inner is not None:
                    self._attributes(key, vars(value), inner, _is_any_attribute)
        self.described = described - self._described_before
        self._read_defaults(functions if self.with_functions else [])
        self._values = list(chain.from_iterable(map(_VALUES, self._namespaces)))
        self._inner_values = [*chain.from_iterable(map(_VALUES, self._inner)), *_defaults_of(self._functions)]
        if versions is not None:
            versions.last = now
        self._versions = versions
        self._texts = [text for _, text in self._live]
        self._section = None

    def _read_defaults(self, functions: List[Tuple[str, Any]]) -> None:
        """A function's ``__defaults__`` and ``__kwdefaults__`` are state: a test that changes
        them changes every later call (a mutable default that grows, too)."""
        self._functions = [function for _, function in functions]
        for key, function in functions:
            for attribute, text in (("__defaults__", _defaults_text(function.__defaults__)),
                                    ("__kwdefaults__", _kwdefaults_text(function.__kwdefaults__))):
                if text is None:
                    continue
                if isinstance(text, str):
                    self._fixed[f"{key}.{attribute}"] = text
                else:
                    self._live.append((f"{key}.{attribute}", text))

    def _attributes(self, prefix: str, namespace: Any, bindings: Bindings,
                    wanted: Callable[[str, Any], bool]) -> List[Tuple[str, Any]]:
        """The attributes of a class or an object, as ``prefix.name``; the functions of a class."""
        if not bindings.up_to_date(namespace):
            for name, value in list(zip(bindings.keys, bindings.values))[:MAX_ATTRS]:
                function = _function_in_class(value) if wanted is _is_class_attribute else None
                if function is not None:
                    bindings.functions.append((f"{prefix}.{name}", function))
                if not wanted(name, value):
                    continue
                key = f"{prefix}.{name}"
                if isinstance(value, SCALARS):
                    bindings.fixed.append((key, clip(repr(value))))
                else:
                    bindings.live.append((key, None, None, _text_source(value)))
        self._inner.append(namespace)
        self._fixed.update(bindings.fixed)
        self._live += [(key, text) for key, _, _, text in bindings.live]
        return bindings.functions


_DEFAULTS = operator.attrgetter("__defaults__")
_KWDEFAULTS = operator.attrgetter("__kwdefaults__")


def _defaults_of(functions: List[Any]) -> Iterable[Any]:
    """The defaults of ``functions``, to compare by identity (in C): replacing them rebinds them."""
    return chain(map(_DEFAULTS, functions), map(_KWDEFAULTS, functions))


def _function_in_class(value: Any) -> Any:
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    return value if isinstance(value, types.FunctionType) else None


def _defaults_text(defaults: Optional[Tuple[Any, ...]]) -> Union[str, Callable[[], str], None]:
    """``(500, 9)``; a mutable default (a list that a call appends to) is looked at every time."""
    if not defaults:
        return None
    if not any(isinstance(value, CONTAINERS) or is_mock(value) for value in defaults):
        return clip("(" + ", ".join(map(fingerprint, defaults)) + ("," if len(defaults) == 1 else "") + ")")
    return lambda: clip("(" + ", ".join(map(fingerprint, defaults)) + ")")


def _kwdefaults_text(defaults: Optional[Dict[str, Any]]) -> Union[str, Callable[[], str], None]:
    """``{'minimum_size': 500}``; looked at every time only when it holds a mutable value (a dict
    rebound is seen by identity, a key changed in place among plain values is not)."""
    if not defaults:
        return None

    def text() -> str:
        return clip("{" + ", ".join(f"{name!r}: {fingerprint(value)}" for name, value in defaults.items()) + "}")

    if any(isinstance(value, CONTAINERS) or is_mock(value) for value in defaults.values()):
        return text
    return text()


_VALUES = operator.methodcaller("values")


def namespace_of(module: Any) -> Dict[str, Any]:
    try:
        namespace = vars(module)
    except TypeError:
        return {}
    return namespace if isinstance(namespace, dict) else dict(namespace)


def _text_source(value: Any) -> Callable[[], str]:
    """What gives fingerprint(value) now, as cheaply as it can be known."""
    if isinstance(value, CONTAINERS):
        return _ContainerText(value)
    if is_mock(value) or is_lru_cache(value) or isinstance(value, functools.partial) \
            or type(value).__module__.startswith("asyncio"):
        return lambda: fingerprint(value)
    text = fingerprint(value)  # "Type @id": nothing but the object itself
    return lambda: text


class _ContainerText:
    """fingerprint() of a container, recomputed only when an item was added, removed or
    replaced (by identity), or a container among its items changed size.

    The items are remembered by id, and held only weakly where they can be: a probe must not
    keep alive what a test took out of a container (a test that clears a registry and runs the
    garbage collector counts on it being gone). A weak reference that died says its item was
    replaced, even by another at the same address; items that cannot be weakly referenced
    (numbers, strings, containers) are held, so their addresses are not reused meanwhile.
    """

    __slots__ = ("ids", "inner", "kept", "refs", "sizes", "text", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.ids: Optional[List[int]] = None
        self.refs: List[Any] = []
        self.kept: List[Any] = []
        self.inner: List[Any] = []
        self.sizes: List[int] = []
        self.text = ""

    def __call__(self) -> str:
        value = self.value
        size = len(value)
        if size > MAX_KEYED:
            return fingerprint(value)  # its size only: as cheap as a check
        if not size and self.ids == []:
            return self.text  # empty then and now: nothing held, nothing to compare
        items = [*value, *value.values()] if isinstance(value, dict) else list(value)
        ids = list(map(id, items))
        if ids == self.ids and not any(map(operator.is_, map(_REFERENT, self.refs), repeat(None))) and (
                not self.inner or list(map(len, self.inner)) == self.sizes):
            return self.text
        self.ids = ids
        self.refs, self.kept = _remembered(items)
        self.inner = [item for item in (value.values() if isinstance(value, dict) else value)
                      if isinstance(item, CONTAINERS)]
        self.sizes = list(map(len, self.inner))
        self.text = fingerprint(value)
        return self.text


_REFERENT = weakref.ref.__call__


def _remembered(items: List[Any]) -> Tuple[List[Any], List[Any]]:
    """Weak references to the items that take them, and the others themselves."""
    refs, kept = [], []
    for item in items:
        if type(item).__weakrefoffset__:
            try:
                refs.append(weakref.ref(item))
                continue
            except TypeError:
                pass
        kept.append(item)
    return refs, kept


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
    if isinstance(value, SCALARS + CONTAINERS) or is_mock(value) or is_lru_cache(value):
        return False
    if not isinstance(getattr(type(value), "__dict__", None), types.MappingProxyType):
        return False
    return not type(value).__module__.startswith(("asyncio", "threading", "logging", "_pytest"))


def is_mock(value: Any) -> bool:
    # Never touch a mock's attributes: that creates children and records calls.
    return type(value).__module__ == "unittest.mock"


def is_lru_cache(value: Any) -> bool:
    return type(value).__name__ == "_lru_cache_wrapper"


def _is_tooling_object(value: Any) -> bool:
    """pytest's objects, and ``from __future__ import annotations`` features."""
    return type(value).__module__.startswith(("_pytest", "pytest", "__future__"))


def fingerprint(value: Any) -> str:
    """A short text that changes when the value does in ways tests trip over."""
    if isinstance(value, SCALARS):
        return clip(repr(value))
    if isinstance(value, CONTAINERS):
        return _container(value)
    if is_mock(value):
        calls = object.__getattribute__(value, "__dict__").get("_mock_call_count")
        return f"{type(value).__name__} calls={calls} @{id(value):x}"
    if is_lru_cache(value):
        return f"lru_cache currsize={value.cache_info().currsize}"
    if isinstance(value, functools.partial):
        arguments = [*map(fingerprint, value.args), *(f"{k}={fingerprint(v)}" for k, v in value.keywords.items())]
        function = fingerprint(value.func) if is_mock(value.func) else _inline(value.func)
        return clip(f"partial({', '.join([function, *arguments])})")
    asyncio_text = _asyncio_object(value)
    if asyncio_text:
        return asyncio_text
    return f"{type(value).__name__} @{id(value):x}"


def _container(value: Any) -> str:
    kind = type(value).__name__
    size = len(value)
    if isinstance(value, dict) and 0 < size <= MAX_KEYS_SHOWN and all(
            isinstance(v, _SHOWN_INLINE) for v in value.values()):
        # A flag flipped in place, or a handler replaced by another, changes neither the size
        # nor the keys: show the values (functions and classes by their names).
        items = sorted(value.items(), key=lambda item: repr(item[0]))
        return clip(f"{kind} len={size} {{{', '.join(f'{k!r}: {_inline(v)}' for k, v in items)}}}")
    if isinstance(value, (dict, set, frozenset)) and 0 < size <= MAX_KEYED:
        try:
            keys = sorted((repr(k) for k in value), key=str)[:MAX_KEYS_SHOWN]
        except Exception:  # exotic keys: the size is still evidence
            return f"{kind} len={size}"
        more = ", ..." if size > MAX_KEYS_SHOWN else ""
        return clip(f"{kind} len={size}{_inner_size(value)} keys=[{', '.join(keys)}{more}]")
    return f"{kind} len={size}{_inner_size(value)}"


_SHOWN_INLINE = (*SCALARS, types.FunctionType, types.BuiltinFunctionType, type)


def _inline(value: Any) -> str:
    if isinstance(value, SCALARS):
        return repr(value)
    return f"{getattr(value, '__module__', None) or '?'}.{getattr(value, '__qualname__', '?')}"


def _inner_size(value: Any) -> str:
    """Items held one level down: a channel -> sockets map grows inside its lists."""
    if len(value) > MAX_KEYED:
        return ""
    items = value.values() if isinstance(value, dict) else value
    inner = [len(item) for item in items if isinstance(item, CONTAINERS)]
    return f" (holding {sum(inner)})" if inner else ""


def _asyncio_object(value: Any) -> str:
    if isinstance(value, asyncio.AbstractEventLoop):
        return f"event loop ({loop_state(value)})"
    if isinstance(value, asyncio.Future):
        state = "done" if value.done() else "pending"
        return f"{type(value).__name__} {state}, loop {loop_state(value.get_loop())}"
    if type(value).__module__.startswith("asyncio"):
        loop = _bound_loop(value)
        if loop is not None:
            return f"{type(value).__name__} bound to a loop that is {loop_state(loop)}"
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


def loop_state(loop: Any) -> str:
    if loop.is_closed():
        return "closed"
    return "running" if loop.is_running() else "open"


def clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."
