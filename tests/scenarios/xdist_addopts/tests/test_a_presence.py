from app import presence


def test_go_online():
    presence.go_online("alice")  # never goes offline
    assert "alice" in presence.ONLINE


def test_go_offline_is_idempotent():
    presence.go_offline("nobody")
    presence.go_offline("nobody")
    assert "nobody" not in presence.ONLINE
