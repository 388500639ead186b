import pytest

from app.handshake import handshake


# NEGATIVE (guarded-assertion): every branch asserts, so the test cannot pass vacuously.
@pytest.mark.parametrize("version", [1, 2, 3])
def test_compression_depends_on_version(version):
    reply = handshake(version)
    if version >= 2:
        assert reply["compression"] == "deflate"
    else:
        assert reply["compression"] is None


# NEGATIVE (guarded-assertion): an if/elif/else chain, each branch asserts.
@pytest.mark.parametrize("version", [0, 1, 2])
def test_handshake_reply_per_version(version):
    reply = handshake(version)
    if version == 0:
        assert reply == {"ok": False, "error": "unsupported version"}
    elif version == 1:
        assert reply["ok"] is True and reply["compression"] is None
    else:
        assert reply["compression"] == "deflate"


# NEGATIVE (guarded-assertion): the other branch fails the test explicitly.
def test_first_event_is_a_price():
    from app.feed import PriceFeed

    events = PriceFeed().publish("ACME", 12.5)
    if events:
        assert events[0]["type"] == "price"
    else:
        pytest.fail("no event was published")


# POSITIVE twin (guarded-assertion): with no event, nothing is checked and the test passes.
def test_first_event_is_a_price_when_any():
    from app.feed import PriceFeed

    events = PriceFeed().publish("ACME", 12.5)
    if events:
        assert events[0]["type"] == "price"
