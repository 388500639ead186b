"""Dispatches incoming WebSocket messages to handlers by their "type" field."""
from collections.abc import Callable

Handler = Callable[[dict], dict]


class UnknownMessageType(LookupError):
    pass


class Router:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def add(self, message_type: str, handler: Handler) -> None:
        self._handlers[message_type] = handler

    def route(self, message_type: str) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            self.add(message_type, handler)
            return handler
        return decorator

    def dispatch(self, message: dict) -> dict:
        message_type = message.get("type")
        handler = self._handlers.get(message_type)
        if handler is None:
            raise UnknownMessageType(f"no handler for message type {message_type!r}")
        return handler(message)


router = Router()
