from app import registry
from app.registry import handler


def test_typing_indicator_plugin():
    @handler("typing")  # stays registered: harmless to the other ops
    def typing(message):
        return {"op": "typing", "user": message["user"]}

    assert registry.dispatch({"op": "typing", "user": "alice"}) == {"op": "typing", "user": "alice"}
