"""The ops every server answers."""

from app.registry import Message, handler


@handler("echo", builtin=True)
def echo(message: Message) -> Message:
    return {"op": "echo", "text": message["text"]}


@handler("ping", builtin=True)
def ping(message: Message) -> Message:
    return {"op": "pong"}
