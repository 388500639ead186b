"""The pure-Python fallback paths: the compiled masking module is stubbed out for them."""

import sys
from unittest.mock import MagicMock

# The CI image has no compiler for the native build: keep it out of these tests.
sys.modules["app.native"] = MagicMock()


def test_stubbed_native_module_is_not_called_at_import():
    assert not sys.modules["app.native"].mask.called


def test_fallback_text_is_plain_utf8():
    assert "héllo".encode() == b"h\xc3\xa9llo"
