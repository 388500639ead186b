from app.registry import Message, handler


# Registered when this file is imported (at collection), for the whole process: it replaces
# the built-in "echo" handler. The test below only calls the function.
@handler("echo")
def shouting_echo(message: Message) -> Message:
    return {"op": "echo", "text": message["text"].upper()}


def test_shouting_echo_upper_cases():
    assert shouting_echo({"op": "echo", "text": "hi"}) == {"op": "echo", "text": "HI"}
