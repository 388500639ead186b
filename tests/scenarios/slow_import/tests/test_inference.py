from app.warmup import load_model

# Loaded once for the module, at import (collection) time, "to keep the tests fast".
MODEL = load_model()


def test_polite_message_scores_zero():
    assert MODEL.score("hello there") == 0.0


def test_insult_scores_one():
    assert MODEL.score("you idiot") == 1.0
