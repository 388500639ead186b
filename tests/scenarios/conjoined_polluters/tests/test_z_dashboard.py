from app.features import render_dashboard


def test_default_dashboard_is_plain():
    assert render_dashboard("alice") == "plain"
