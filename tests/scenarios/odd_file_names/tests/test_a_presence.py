from app import presence


def test_go_online():
    presence.go_online("alice")  # never goes offline again
    assert "alice" in presence.ONLINE


def test_go_offline():
    presence.go_online("bob")
    presence.go_offline("bob")
    assert "bob" not in presence.ONLINE
