from app import builtin_handlers, registry


def test_reset_restores_the_builtin_handlers():
    registry.HANDLERS["echo"] = lambda message: message
    registry.reset_to_defaults()
    assert registry.HANDLERS["echo"] is builtin_handlers.echo


def test_unknown_op_is_an_error():
    assert registry.dispatch({"op": "teleport"}) == {"op": "error", "reason": "unknown op 'teleport'"}
