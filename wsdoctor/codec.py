"""Records to and from JSON (run.json, bisect.json, the journal), written atomically."""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import types
import typing
from pathlib import Path
from typing import Any

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _dataclass_fields(value: Any) -> dict[str, Any]:
    """json's ``default``: a record as a dict; the C encoder takes care of what is inside."""
    names = _FIELD_NAMES.get(type(value))
    if names is None:
        if not dataclasses.is_dataclass(value) or isinstance(value, type):
            raise TypeError(f"{type(value).__name__} is not a record")
        names = _FIELD_NAMES[type(value)] = tuple(f.name for f in dataclasses.fields(value))
    return {name: getattr(value, name) for name in names}


def from_jsonable(kind: Any, data: Any) -> Any:
    """Rebuild a value of type ``kind`` (a dataclass, enum, tuple, list or union) from JSON."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        return _from_union(typing.get_args(kind), data)
    if origin in (tuple, list):
        item_kind = typing.get_args(kind)[0]
        return origin(from_jsonable(item_kind, item) for item in data)
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        hints = typing.get_type_hints(kind)
        known = {f.name for f in dataclasses.fields(kind)}
        return kind(**{k: from_jsonable(hints[k], v) for k, v in data.items() if k in known})
    if origin is typing.Literal:
        return _from_literal(typing.get_args(kind), data)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(data)
    return data


def _from_literal(allowed: tuple[Any, ...], data: Any) -> Any:
    """One of the allowed values; enum members (e.g. the verdicts a command gives) from their values."""
    value = type(allowed[0])(data) if isinstance(allowed[0], enum.Enum) else data
    if value not in allowed:
        raise ValueError(f"{data!r} is not one of {', '.join(repr(getattr(a, 'value', a)) for a in allowed)}")
    return value


def _from_union(options: tuple[Any, ...], data: Any) -> Any:
    if data is None:
        return None
    for option in options:
        if option is not type(None):
            return from_jsonable(option, data)
    return data


def dump_json(value: Any) -> str:
    # No indent: with it, json falls back to its pure-Python encoder (records reach megabytes).
    # The enums are str enums: the encoder writes their values.
    return json.dumps(value, default=_dataclass_fields, check_circular=False) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write so that a reader never sees half a file, even if we are interrupted."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
