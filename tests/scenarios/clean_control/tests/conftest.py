import pytest

import app.ws
from app.ws import ConnectionManager


@pytest.fixture(autouse=True)
def manager(monkeypatch):
    """A fresh ConnectionManager per test, also installed as the module global."""
    fresh = ConnectionManager()
    monkeypatch.setattr(app.ws, "manager", fresh)
    return fresh
