import pytest

from app.router import Router, UnknownMessageType, router


def test_dispatch_ping():
    reply = router.dispatch({"type": "ping", "id": 42})
    assert reply["type"] == "pong"
    assert reply["id"] == 42


def test_unknown_type_is_rejected():
    with pytest.raises(UnknownMessageType, match="'subscribe_all'"):
        router.dispatch({"type": "subscribe_all"})


def test_custom_route():
    local = Router()

    @local.route("whoami")
    def whoami(message):
        return {"type": "you", "user": message["user"]}

    assert local.dispatch({"type": "whoami", "user": "alice"}) == {"type": "you", "user": "alice"}
