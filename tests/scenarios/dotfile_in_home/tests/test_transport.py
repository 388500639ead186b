from app import transport


def test_compression_is_on_by_default():
    assert transport.connect_options()["compression"] == "deflate"


def test_ping_interval_comes_from_config():
    assert transport.connect_options()["ping_interval"] > 0
