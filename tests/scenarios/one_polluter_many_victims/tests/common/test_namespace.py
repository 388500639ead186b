import pytest

from app.namespace import Namespace

NAMES = ["/chat", "/admin", "/game", "/news", "/support", "/metrics", "/presence", "/rooms"]


@pytest.mark.parametrize("name", NAMES)
def test_emit_encodes_event_with_namespace(name):
    namespace = Namespace(name)
    assert namespace.emit("hello", "world") == f'2{name},["hello","world"]'


@pytest.mark.parametrize("n", range(50))
def test_namespace_keeps_its_name(n):
    assert Namespace(f"/ns{n}").name == f"/ns{n}"
