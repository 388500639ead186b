"""Handlers by op name. Plugins register with the @handler decorator when they are imported."""

from __future__ import annotations

from typing import Any, Callable

Message = dict[str, Any]
Handler = Callable[[Message], Message]

HANDLERS: dict[str, Handler] = {}
BUILTINS: dict[str, Handler] = {}


def handler(op: str, *, builtin: bool = False) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        HANDLERS[op] = function
        if builtin:
            BUILTINS[op] = function
        return function

    return register


def dispatch(message: Message) -> Message:
    function = HANDLERS.get(message.get("op", ""))
    if function is None:
        return {"op": "error", "reason": f"unknown op {message.get('op')!r}"}
    return function(message)


def reset_to_defaults() -> None:
    HANDLERS.clear()
    HANDLERS.update(BUILTINS)
