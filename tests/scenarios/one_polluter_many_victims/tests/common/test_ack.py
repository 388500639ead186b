import pytest

from app.ack import ack

ARGS = [("ok",), (1,), (True,), ({"saved": True},), ([1, 2],), ("a", "b"), (None,)]
WANTED = ['3[1]["ok"]', '3[1][1]', '3[1][true]', '3[1][{"saved":true}]', '3[1][[1,2]]', '3[1]["a","b"]',
          '3[1][null]']


@pytest.mark.parametrize(("args", "encoded"), list(zip(ARGS, [w.replace("[1]", "1", 1) for w in WANTED])),
                         ids=["ok", "int", "true", "dict", "list", "two-args", "null"])
def test_ack_with_arguments(args, encoded):
    assert ack(1, *args) == encoded


@pytest.mark.parametrize("ack_id", range(100))
def test_ack_without_arguments(ack_id):
    assert ack(ack_id) == f"3{ack_id}"
