from app.frames import encode_text


def test_encode_short_text_frame():
    frame = encode_text("Hi", b"\x01\x02\x03\x04")
    assert frame == b"\x81\x82\x01\x02\x03\x04" + bytes([ord("H") ^ 1, ord("i") ^ 2])


def test_long_text_is_refused():
    try:
        encode_text("x" * 126, b"\x00\x00\x00\x00")
    except ValueError as error:
        assert "too long" in str(error)
    else:
        raise AssertionError("a 126-byte payload needs an extended length")
