import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def isolated_home(tmp_path_factory):
    """Keep the suite away from the developer's real ~/.wsclientrc: one temporary HOME for the session."""
    home = tmp_path_factory.mktemp("home")
    saved = os.environ.get("HOME")
    os.environ["HOME"] = str(home)
    yield home
    if saved is None:
        del os.environ["HOME"]
    else:
        os.environ["HOME"] = saved
