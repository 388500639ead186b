import pytest

from app import serializers


def test_decode_json_frame():
    # Relies on the "json" codec being registered: create_app() does that, this test never calls it.
    assert serializers.decode("json", '{"op": "ping", "seq": 1}') == {"op": "ping", "seq": 1}


def test_unknown_format_is_rejected():
    with pytest.raises(serializers.UnknownFormat):
        serializers.decode("msgpack", "\x81")
