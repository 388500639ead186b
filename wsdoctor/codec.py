"""Records to and from JSON (run.json, bisect.json, the journal), written atomically."""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import json
import os
import stat
import types
import typing
from collections.abc import Sequence
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


class ShapeError(ValueError):
    """JSON that does not have the shape of the record it should hold; the message says where."""


_HINTS: dict[type, dict[str, Any]] = {}
_SCALARS: dict[type, tuple[type, ...]] = {str: (str,), int: (int,), float: (int, float), bool: (bool,)}


def from_jsonable(kind: Any, data: Any, where: str = "$") -> Any:
    """Rebuild a value of type ``kind`` (a dataclass, enum, tuple, list, union or scalar) from JSON.

    Every value is checked against its type, so a record of the wrong shape fails here, with the
    place (``$.plan_results[0].plan.label``), never later in whatever reads it.
    """
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        return _from_union(typing.get_args(kind), data, where)
    if origin in (tuple, list):
        return _from_sequence(origin, typing.get_args(kind), data, where)
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        return _from_object(kind, data, where)
    if origin is typing.Literal:
        return _from_literal(typing.get_args(kind), data, where)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind(data)
        except ValueError:
            raise ShapeError(f"{where}: {_shown(data)} is not one of {_choices(list(kind))}") from None
    if kind in _SCALARS:
        if not isinstance(data, _SCALARS[kind]) or (kind is not bool and isinstance(data, bool)):
            raise ShapeError(f"{where}: expected {kind.__name__}, found {_shown(data)}")
        return data
    if kind is type(None) and data is not None:
        raise ShapeError(f"{where}: expected null, found {_shown(data)}")
    return data


def _from_object(kind: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ShapeError(f"{where}: expected an object, found {_shown(data)}")
    hints = _HINTS.get(kind)
    if hints is None:
        hints = _HINTS[kind] = typing.get_type_hints(kind)
    values = {}
    for field in dataclasses.fields(kind):
        if field.name in data:
            values[field.name] = from_jsonable(hints[field.name], data[field.name], f"{where}.{field.name}")
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ShapeError(f"{where}: the key {field.name!r} is missing")
    return kind(**values)


def _from_sequence(origin: type, args: tuple[Any, ...], data: Any, where: str) -> Any:
    if not isinstance(data, list):
        raise ShapeError(f"{where}: expected a list, found {_shown(data)}")
    if origin is list or (len(args) == 2 and args[1] is Ellipsis):  # tuple[X, ...], list[X]
        return origin(from_jsonable(args[0], item, f"{where}[{i}]") for i, item in enumerate(data))
    if len(data) != len(args):  # a fixed tuple: tuple[str, str]
        raise ShapeError(f"{where}: expected {len(args)} items, found {len(data)}")
    pairs = enumerate(zip(args, data, strict=True))
    return tuple(from_jsonable(arg, item, f"{where}[{i}]") for i, (arg, item) in pairs)


def _from_literal(allowed: tuple[Any, ...], data: Any, where: str) -> Any:
    """One of the allowed values; enum members (e.g. the verdicts a command gives) from their values."""
    try:
        value = type(allowed[0])(data) if isinstance(allowed[0], enum.Enum) else data
    except ValueError:
        value = None
    if value is None or value not in allowed:
        raise ShapeError(f"{where}: {_shown(data)} is not one of {_choices(allowed)}")
    return value


def _from_union(options: tuple[Any, ...], data: Any, where: str) -> Any:
    if data is None and type(None) in options:
        return None
    others = [option for option in options if option is not type(None)]
    if len(others) == 1:
        return from_jsonable(others[0], data, where)
    for option in others:  # several: the first that fits (no record field has several yet)
        try:
            return from_jsonable(option, data, where)
        except ShapeError:
            continue
    raise ShapeError(f"{where}: {_shown(data)} fits none of its types")


def _choices(values: Sequence[Any]) -> str:
    return ", ".join(repr(getattr(value, "value", value)) for value in values)


def _shown(data: Any) -> str:
    if isinstance(data, (dict, list)):
        return "an object" if isinstance(data, dict) else "a list"
    text = json.dumps(data)
    return text if len(text) <= 40 else text[:37] + "..."


def dump_json(value: Any) -> str:
    # No indent: with it, json falls back to its pure-Python encoder (records reach megabytes).
    # The enums are str enums: the encoder writes their values.
    return json.dumps(value, default=_dataclass_fields, check_circular=False) + "\n"


def read_bounded(path: Path, limit: int, json_object: bool = False) -> str:
    """A file a user named, read whole as UTF-8 text, but never more of it than ``limit`` bytes,
    and not at all when its first bytes show it is not what it should be (/dev/zero, a binary):
    ValueError says why."""
    with path.open("rb") as stream:
        head = stream.read(1 << 16)
        if json_object and not head.lstrip().startswith(b"{"):
            raise ValueError("not a JSON object")
        if b"\0" in head:
            raise ValueError("it is not text (it holds NUL bytes)")
        rest = stream.read(limit + 1 - len(head))
    if len(head) + len(rest) > limit:
        raise ValueError(f"it is larger than {limit >> 20} MB")
    return (head + rest).decode("utf-8")


def write_text(path: Path, text: str) -> None:
    """Write a file of wsdoctor's (UTF-8; a name that is not, as the file system gave it). A full disk
    fails when the file is closed, in an error that names no file: this one names it."""
    try:
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
    except OSError as error:
        error.filename = error.filename or str(path)
        raise


def write_atomic(path: Path, text: str) -> None:
    """Write so that a reader never sees half a file, even if we are interrupted or the disk is full
    (then the file as it was stays, and the error names it). What is not a regular file (a terminal,
    a pipe, /dev/stdout, /dev/fd/N) is written into as it is: replacing it would put a regular file
    where the device or the link was."""
    target = replaceable_file(path)
    if target is None:
        write_text(path, text)
        return
    tmp = target.with_name(target.name + ".tmp")
    try:
        write_text(tmp, text)
        os.replace(tmp, target)
    except OSError as error:
        with contextlib.suppress(OSError):
            tmp.unlink()
        error.filename = error.filename or str(path)
        raise


_SYSTEM_DIRECTORIES = (("/", "dev"), ("/", "proc"))  # their links lead to open descriptors and devices
_MAX_LINKS = 40


def replaceable_file(path: Path) -> Path | None:
    """The regular file to replace when writing ``path`` atomically (``path``, or the file its
    symbolic links lead to, so a link stays a link); None when it is anything else, or a link
    through /dev or /proc (/dev/stdout leads to whatever file standard output was opened on)."""
    current = Path(os.path.abspath(path))
    for _ in range(_MAX_LINKS):
        if current.parts[:2] in _SYSTEM_DIRECTORIES:
            return None
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            return current
        except OSError:
            return None
        if stat.S_ISREG(mode):
            return current
        if not stat.S_ISLNK(mode):
            return None
        current = Path(os.path.abspath(current.parent / os.readlink(current)))
    return None
