"""Test-supplied text for rich: its own markup escaped, control sequences removed (never dropped)."""

from __future__ import annotations

from rich.markup import escape

from wsdoctor.text import printable


def plain_text(value: str) -> str:
    """``value`` as rich prints it literally: `[b]` stays `[b]`, an ESC sequence cannot drive the terminal."""
    return escape(printable(value))
