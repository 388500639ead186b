"""Whether a dict changed, in one read: CPython's dict version (PEP 509). Stdlib only, Python 3.9+.

CPython 3.6-3.13 keep in every dict a 64-bit version that each change to it (a key added or
deleted, a value rebound) replaces with a new one, never used before by any dict. While a dict's
version is the one read last time, nothing in it changed: the probes read that instead of
comparing each of sys.modules' 560 values, or each global of a module, by identity. The field is
not part of the C API: it is read through ctypes where the layout puts it (after the object's
header and ``ma_used``), and used only where a self-test at import shows that it behaves so on
this interpreter. Elsewhere (PyPy, CPython 3.14 where the field no longer counts changes)
``AVAILABLE`` is False and the callers compare values, as they always can.
"""

from __future__ import annotations

import operator
import sys
from typing import Any, Dict, List, Optional

_VALUE = operator.attrgetter("value")


def _offset() -> Optional[int]:
    """Where the version sits in a dict: before the two pointers that end the object."""
    if sys.implementation.name != "cpython":
        return None
    try:
        import ctypes  # not in every build of Python (one without libffi): then values are compared
    except ImportError:
        return None
    offset = dict.__basicsize__ - 2 * ctypes.sizeof(ctypes.c_void_p) - ctypes.sizeof(ctypes.c_uint64)
    return offset if offset > 0 and _behaves(offset) else None


def _behaves(offset: int) -> bool:
    """The field before it counts the items, and it changes with every change and only then."""
    import ctypes

    watched: Dict[str, Any] = {"kept": 1, "rebound": 2}
    other: Dict[str, Any] = {}
    used = ctypes.c_ssize_t.from_address(id(watched) + offset - ctypes.sizeof(ctypes.c_ssize_t))
    version = ctypes.c_uint64.from_address(id(watched) + offset)
    seen = [version.value]
    if used.value != 2:
        return False
    other["elsewhere"] = object()
    seen.append(version.value)  # another dict changed: not this one
    watched["rebound"] = object()
    seen.append(version.value)
    watched["added"] = 3
    seen.append(version.value)
    del watched["added"]
    seen.append(version.value)
    watched.clear()
    seen.append(version.value)
    return seen[0] == seen[1] and len(set(seen[1:])) == 5 and used.value == 0


OFFSET = _offset()
AVAILABLE = OFFSET is not None


class DictVersions:
    """The versions of some dicts: ``last`` is the caller's, read with ``now()`` before it looked
    at the dicts (empty: never looked). It holds the dicts: their memory stays theirs."""

    __slots__ = ("_views", "dicts", "last")

    def __init__(self, dicts: List[Dict[Any, Any]]) -> None:
        assert OFFSET is not None, "check AVAILABLE first"
        import ctypes

        self.dicts = dicts
        self._views = [ctypes.c_uint64.from_address(id(d) + OFFSET) for d in dicts]
        self.last: List[int] = []

    def now(self) -> List[int]:
        return list(map(_VALUE, self._views))
