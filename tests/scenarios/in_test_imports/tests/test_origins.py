import os


def test_wildcard_origin_from_environment():
    from app import security

    os.environ["WS_ALLOWED_ORIGINS"] = "*"  # should have been monkeypatch.setenv
    assert security.origin_allowed("http://localhost:3000")


def test_unknown_site_is_rejected_by_default():
    from app import security

    assert not security.origin_allowed("https://evil.example.net")
