"""Frame formats, registered at startup (create_app calls install_defaults)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable


class UnknownFormat(LookupError):
    pass


@dataclass(frozen=True)
class Codec:
    encode: Callable[[Any], str]
    decode: Callable[[str], Any]


REGISTRY: dict[str, Codec] = {}


def register(name: str, codec: Codec) -> None:
    REGISTRY[name] = codec


def install_defaults() -> None:
    register("json", Codec(encode=json.dumps, decode=json.loads))
    register("text", Codec(encode=str, decode=str))


def decode(fmt: str, frame: str) -> Any:
    try:
        codec = REGISTRY[fmt]
    except KeyError:
        raise UnknownFormat(f"no codec registered for {fmt!r}") from None
    return codec.decode(frame)


def encode(fmt: str, message: Any) -> str:
    try:
        codec = REGISTRY[fmt]
    except KeyError:
        raise UnknownFormat(f"no codec registered for {fmt!r}") from None
    return codec.encode(message)
