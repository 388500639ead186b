import pytest

from app import presence


def test_nobody_online_at_start():
    assert presence.online_count() == 0


@pytest.mark.parametrize("status", ["away", "do not disturb"])
def test_status_label(status):
    assert presence.label(status)[0].isupper()
