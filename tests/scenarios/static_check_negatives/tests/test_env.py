import os
from unittest.mock import patch


def _token():
    return os.environ.get("WS_TOKEN", "")


# NEGATIVE (environ-assignment): monkeypatch restores it.
def test_token_from_environment(monkeypatch):
    monkeypatch.setenv("WS_TOKEN", "secret")
    assert _token() == "secret"


# NEGATIVE, proposed (environ-assignment): inside patch.dict(os.environ) the assignment is
# undone when the block ends; flagging it is a false positive.
def test_token_inside_patch_dict():
    with patch.dict(os.environ, {"WS_REGION": "eu"}):
        os.environ["WS_TOKEN"] = "scoped"
        assert _token() == "scoped"
    assert os.environ.get("WS_TOKEN") != "scoped"


# POSITIVE twin (environ-assignment): left set for every later test.
def test_token_leaks():
    os.environ["WS_TOKEN"] = "leaked"
    assert _token() == "leaked"
