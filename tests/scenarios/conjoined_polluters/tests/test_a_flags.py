import pytest

from app import features


def test_enable_beta_dashboard():
    features.enable("beta_dashboard")  # never reset: leaks into later tests
    assert features.FLAGS["beta_dashboard"] is True


@pytest.mark.parametrize("flag", [f"experiment_{i}" for i in range(12)])
def test_experiment_flags_are_independent(flag, monkeypatch):
    monkeypatch.setattr(features, "FLAGS", {})
    features.enable(flag)
    assert list(features.FLAGS) == [flag]
