"""What the chat does with a score."""

from __future__ import annotations


def verdict(score: float) -> str:
    return "block" if score >= 0.5 else "allow"
