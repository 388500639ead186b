import sys
from unittest.mock import MagicMock


def test_encode_prefers_orjson_when_installed():
    fake_orjson = MagicMock()
    fake_orjson.dumps.return_value = b'{"fast":true}'
    sys.modules["orjson"] = fake_orjson  # pretend it is installed; never removed
    from app.codec import encode

    assert encode({"fast": True}) == b'{"fast":true}'


def test_encode_is_compact_json():
    from app.codec import encode

    assert encode({"type": "ping", "seq": 1}) == b'{"type":"ping","seq":1}'


def test_decode_round_trip():
    from app.codec import decode

    assert decode(b'{"type":"pong"}') == {"type": "pong"}
