import pytest

from app.rooms import normalise


@pytest.mark.parametrize(("name", "slug"), [("Lobby", "lobby"), ("Help Desk", "help-desk"), (" dev ops ", "dev-ops")])
def test_normalise(name, slug):
    assert normalise(name) == slug


def test_empty_name_is_rejected():
    with pytest.raises(ValueError):
        normalise("  !!  ")
