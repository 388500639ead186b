import pytest

from app.messages import MAX_LENGTH, InvalidMessage, validate


def test_text_is_stripped():
    assert validate({"text": "  hi  "})["text"] == "hi"


def test_default_room_is_lobby():
    assert validate({"text": "hi"})["room"] == "lobby"


@pytest.mark.parametrize("bad", [{}, {"text": ""}, {"text": "   "}, {"text": 42}])
def test_text_is_required(bad):
    with pytest.raises(InvalidMessage):
        validate(bad)


def test_too_long_is_rejected():
    with pytest.raises(InvalidMessage):
        validate({"text": "x" * (MAX_LENGTH + 1)})
