from app.connections import registry


def test_open_registers_the_user():
    connection = registry.open("carol")
    assert "carol" in registry.users()
    registry.forget(connection)


def test_forget_unknown_connection_is_harmless():
    other = registry.open("dave")
    registry.forget(other)
    registry.forget(other)
    assert "dave" not in registry.users()
