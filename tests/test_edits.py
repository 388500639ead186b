"""The edits of `wsdoctor fix`, made on concrete syntax trees: the right statements change, every
comment and blank line of the file stays, the names are the file's own, and the result is Python."""

from __future__ import annotations

import ast
import re
import textwrap

import pytest

from wsdoctor.analysis import fix as spec
from wsdoctor.edits import EditError, Project, apply_plan, unified_diff
from wsdoctor.edits.fixtures import cleaner_statements
from wsdoctor.records import FixSource, StateChange

PROJECT_MODULES = {"app", "app.rooms", "app.ws", "app.settings", "app.config", "app.packet", "app.broker"}


def module_of(name: str) -> tuple[str, tuple[str, ...]]:
    parts = name.split(".")
    end = max(i for i in range(1, len(parts)) if ".".join(parts[:i]) in PROJECT_MODULES)
    return ".".join(parts[:end]), tuple(parts[end:])


def edited(files: dict[str, str], *edits: object, modules: dict[str, str] | None = None) -> dict[str, str]:
    """The files as the edits leave them; ``modules``: the project's modules' sources, by dotted name."""
    sources = {path: textwrap.dedent(text).lstrip("\n") for path, text in files.items()}
    project = Project(read=sources.get, module_of=module_of, first_party=lambda top: top == "app",
                      module_source=(modules or {}).get)
    changed = apply_plan(spec.CandidatePlan(FixSource.STATE, "t", tuple(edits)), project)  # type: ignore[arg-type]
    for text in changed.values():
        ast.parse(text)  # the result is Python
    return changed


def leak(kind: str, name: str, before: str | None = "x", after: str | None = "y") -> StateChange:
    return StateChange(kind, name, before, after, by="tests/test_p.py::test_p")


ENVIRON_TEST = '''
    import os

    from app import security


    def test_p():
        # the origin list comes from the environment
        os.environ["WS_ALLOWED_ORIGINS"] = "*"  # should have used monkeypatch
        assert security.origin_allowed("http://localhost")
'''


def test_an_environment_assignment_becomes_monkeypatch_setenv_with_its_comments_kept() -> None:
    rewrite = spec.Rewrite("tests/test_p.py", "test_p", (leak("environ", "WS_ALLOWED_ORIGINS"),))
    text = edited({"tests/test_p.py": ENVIRON_TEST}, rewrite)["tests/test_p.py"]
    assert 'def test_p(monkeypatch):\n    # the origin list comes from the environment\n' \
           '    monkeypatch.setenv("WS_ALLOWED_ORIGINS", "*")  # should have used monkeypatch\n' in text
    assert text.startswith("import os\n\nfrom app import security\n")


@pytest.mark.parametrize(("line", "kind", "name", "rewritten"), [
    ("config.DEBUG = True", "module-attr", "app.config.DEBUG", 'monkeypatch.setattr(config, "DEBUG", True)'),
    ("packet.Packet.json = MagicMock()", "class-attr", "app.packet.Packet.json",
     'monkeypatch.setattr(packet.Packet, "json", MagicMock())'),
    ('sys.modules["orjson"] = fake', "sys.modules", "orjson", 'monkeypatch.setitem(sys.modules, "orjson", fake)'),
])
def test_an_attribute_or_module_assigned_in_a_test_becomes_monkeypatch(line: str, kind: str, name: str,
                                                                       rewritten: str) -> None:
    source = f"from app import config, packet\n\n\ndef test_p(tmp_path):\n    fake = object()\n    {line}\n"
    text = edited({"tests/test_p.py": source}, spec.Rewrite("tests/test_p.py", "test_p", (leak(kind, name),)))
    assert f"def test_p(tmp_path, monkeypatch):\n    fake = object()\n    {rewritten}\n" in text["tests/test_p.py"]


def test_only_the_leaked_name_is_rewritten_and_a_local_object_is_left_alone() -> None:
    source = ("from app import config\n\n\ndef test_p():\n    config.DEBUG = True\n    config.OTHER = 1\n"
              "    self_made = type('X', (), {})()\n    self_made.DEBUG = 2\n")
    rewrite = spec.Rewrite("tests/test_p.py", "test_p", (leak("module-attr", "app.config.DEBUG"),))
    text = edited({"tests/test_p.py": source}, rewrite)["tests/test_p.py"]
    assert 'monkeypatch.setattr(config, "DEBUG", True)' in text and "config.OTHER = 1" in text
    assert "self_made.DEBUG = 2" in text


def test_a_patcher_started_in_a_unittest_set_up_gets_its_cleanup() -> None:
    source = '''
        import unittest
        from unittest.mock import patch


        class TestStale(unittest.TestCase):
            def setUp(self):
                patcher = patch("app.clock.now", return_value=1.0)
                patcher.start()

            def test_p(self):
                self.assertTrue(True)
    '''
    started = leak("patcher", "app.clock.now", None, "active")
    text = edited({"tests/test_p.py": source}, spec.Rewrite("tests/test_p.py", "TestStale.test_p", (started,)))
    assert "        patcher.start()\n        self.addCleanup(patcher.stop)\n" in text["tests/test_p.py"]


def test_nothing_to_rewrite_is_an_edit_error_that_says_so() -> None:
    source = "from app import rooms\n\n\ndef test_p():\n    rooms.lock('lobby')\n"
    with pytest.raises(EditError, match=re.escape("no statement of test_p writes app.rooms.LOCKED directly")):
        edited({"tests/test_p.py": source},
               spec.Rewrite("tests/test_p.py", "test_p", (leak("module-attr", "app.rooms.LOCKED"),)))


STUB_FILE = '''
    import asyncio
    import sys
    from unittest.mock import AsyncMock, MagicMock

    # Unit tests should not need the websockets library.
    sys.modules["websockets"] = MagicMock()

    from app.socket_manager import SocketManager  # noqa: E402


    class TestSocketManager:
        def test_initialization(self):
            assert SocketManager("ws://x").url == "ws://x"
'''


def test_a_module_level_sys_modules_mock_becomes_a_real_module_stub_in_a_fixture_with_patch_dict() -> None:
    """What the imported app module uses of the package is on the stub (awaited: an AsyncMock); each
    submodule it imports is a module of its own, in sys.modules with its parent, never __path__ = []."""
    app = ("import websockets\nfrom websockets.sync.client import connect as sync_connect\n\n\n"
           "async def open_connection(url):\n    return await websockets.connect(url)\n")
    sources = {"tests/unit/test_sm.py": textwrap.dedent(STUB_FILE).lstrip("\n")}
    project = Project(read=sources.get, module_of=module_of, first_party=lambda top: top == "app",
                      module_source={"app.socket_manager": app}.get)
    plan = spec.CandidatePlan(FixSource.REWRITE, "t", (spec.StubIntoFixture("tests/unit/test_sm.py", ("websockets",)),))
    text = apply_plan(plan, project)["tests/unit/test_sm.py"]
    ast.parse(text)
    assert 'sys.modules["websockets"] = MagicMock()' not in text and "__path__" not in text
    assert "import sys\nimport types\nfrom unittest.mock import AsyncMock, MagicMock, patch\n\nimport pytest\n" in text
    assert ("# Unit tests should not need the websockets library.\n"
            'websockets_stub = types.ModuleType("websockets")\n'
            'websockets_stub.connect = AsyncMock(name="websockets.connect")\n'
            'websockets_sync_stub = types.ModuleType("websockets.sync")\n'
            "websockets_stub.sync = websockets_sync_stub\n"
            'websockets_sync_client_stub = types.ModuleType("websockets.sync.client")\n'
            'websockets_sync_client_stub.connect = MagicMock(name="websockets.sync.client.connect")\n'
            "websockets_sync_stub.client = websockets_sync_client_stub\n"
            'websockets_stubs = {\n    "websockets": websockets_stub,\n    "websockets.sync": websockets_sync_stub,\n'
            '    "websockets.sync.client": websockets_sync_client_stub,\n}\n') in text
    # The import that needed the stub still gets it, and leaves sys.modules without it.
    assert ("with patch.dict(sys.modules, websockets_stubs):\n"
            "    from app.socket_manager import SocketManager  # noqa: E402\n\n\n"
            "@pytest.fixture(autouse=True)\ndef _websockets_stub():\n"
            "    with patch.dict(sys.modules, websockets_stubs):\n        yield\n\n\nclass TestSocketManager:") in text


def test_a_stub_that_is_not_a_mock_is_kept_as_it_is_inside_the_fixture() -> None:
    """Here the module imported after the stub reaches websockets through another of the project's."""
    source = STUB_FILE.replace("MagicMock()", "FakeWebsockets()")
    modules = {"app.socket_manager": "from . import transport\n", "app.transport": "import websockets.sync\n"}
    text = edited({"tests/unit/test_sm.py": source}, spec.StubIntoFixture("tests/unit/test_sm.py", ("websockets",)),
                  modules=modules)["tests/unit/test_sm.py"]
    assert ('websockets_stub = FakeWebsockets()\nwebsockets_stubs = {"websockets": websockets_stub}\n'
            "with patch.dict(sys.modules, websockets_stubs):\n") in text
    assert "    with patch.dict(sys.modules, websockets_stubs):\n        yield\n" in text


def test_an_import_after_the_stub_that_does_not_reach_the_stubbed_package_stays_at_the_top() -> None:
    """Imported inside patch.dict, a package would leave sys.modules after it and be imported again, a
    second copy, by the next file: only the imports that need the stub go under it."""
    modules = {"app.socket_manager": "import json\n\n\ndef connect():\n    import websockets\n"}
    text = edited({"tests/unit/test_sm.py": STUB_FILE}, spec.StubIntoFixture("tests/unit/test_sm.py", ("websockets",)),
                  modules=modules)["tests/unit/test_sm.py"]
    assert "with patch.dict(sys.modules, websockets_stubs):\n    from app" not in text
    assert "import pytest\n\nfrom app.socket_manager import SocketManager\n" in text  # E402 no more: noqa gone
    assert "def _websockets_stub():\n    with patch.dict(sys.modules, websockets_stubs):\n        yield\n" in text


def test_state_restored_in_place_through_the_names_the_file_binds() -> None:
    source = "import pytest\n\nfrom app import rooms\n\n\ndef test_p():\n    rooms.lock('lobby')\n"
    locked = leak("module-attr", "app.rooms.LOCKED", "set len=0", "set len=1 keys=['lobby']")
    text = edited({"tests/test_p.py": source},
                  spec.RestoreState("tests/test_p.py", (locked,), ("tests/test_p.py::test_p",)))["tests/test_p.py"]
    assert ("@pytest.fixture(autouse=True)\ndef _restore_rooms_locked():\n"
            '    """app.rooms.LOCKED as it was before each test (test_p changes it and never puts it back)."""\n'
            "    saved_locked = set(rooms.LOCKED)\n    yield\n    rooms.LOCKED.clear()\n"
            "    rooms.LOCKED.update(saved_locked)\n\n\ndef test_p():") in text


@pytest.mark.parametrize(("change", "lines"), [
    (leak("module-attr", "app.config.DEBUG", "False", "True"),
     ["from app import config", 'monkeypatch.setattr(config, "DEBUG", config.DEBUG)']),
    (leak("module-attr", "app.settings.get_settings", "lru_cache currsize=0", "lru_cache currsize=1"),
     ["settings.get_settings.cache_clear()\n    yield\n    settings.get_settings.cache_clear()"]),
    (leak("module-attr", "app.ws.manager.users", "dict len=0", "dict len=1 (holding 2) keys=['a']"),
     ["saved_users = copy.deepcopy(ws.manager.users)", "ws.manager.users.update(saved_users)"]),
    (leak("environ", "TOKEN", None, "x"), ["with patch.dict(os.environ):\n        yield"]),
    (leak("sys.modules", "orjson", None, "MagicMock"), ["with patch.dict(sys.modules):\n        yield"]),
    (leak("patcher", "app.clock.now", None, "active"), ["yield\n    patch.stopall()"]),
    (leak("file", "~/.wsclientrc", None, "79 bytes"),
     ['from pathlib import Path', 'path = Path.home() / ".wsclientrc"', "path.unlink(missing_ok=True)"]),
    (leak("file", "feature_flags.json", None, "76 bytes"),
     ['def _restore_file_feature_flags_json(request):', 'request.config.rootpath / "feature_flags.json"']),
    (leak("module-attr", "app.settings._settings", None, "Settings @1"),
     ['if hasattr(settings, "_settings"):\n        delattr(settings, "_settings")']),
])
def test_each_kind_of_state_has_its_save_and_restore(change: StateChange, lines: list[str]) -> None:
    text = edited({"tests/test_p.py": "def test_p():\n    pass\n"},
                  spec.RestoreState("tests/test_p.py", (change,), ("tests/test_p.py::test_p",)))["tests/test_p.py"]
    for line in lines:
        assert line in text


def test_a_thread_has_no_generic_undo() -> None:
    with pytest.raises(EditError, match="no generic way to put it back"):
        edited({"tests/test_p.py": "def test_p():\n    pass\n"},
               spec.RestoreState("tests/test_p.py", (leak("thread", "server"),), ()))


def test_a_missing_conftest_is_created_with_the_fixture() -> None:
    changed = edited({}, spec.RestoreState("tests/conftest.py", (leak("environ", "TOKEN", None, "x"),), ()))
    project = Project(read={}.get, module_of=module_of, first_party=lambda top: False)
    assert unified_diff(changed, project.read).startswith("--- /dev/null\n+++ b/tests/conftest.py\n")
    assert changed["tests/conftest.py"].startswith("import os\nfrom unittest.mock import patch\n\nimport pytest\n")


CLEANER_FILES = {
    "tests/test_p.py": '''
        import pytest
        from app.settings import websocket_url


        def test_p():
            import os
            os.environ["APP_WS_URL"] = "wss://staging"
            assert websocket_url().startswith("wss://")
    ''',
    "tests/test_c.py": '''
        from app import settings


        def test_clean(tmp_path):
            """Resets it."""
            settings.reset_environment()
            marker = tmp_path / "x"
            assert settings.websocket_url().startswith("ws://")
    ''',
}


def test_a_cleaners_statements_become_the_polluters_teardown_with_the_imports_they_need() -> None:
    cleaner = "tests/test_c.py::test_clean"
    text = edited(CLEANER_FILES, spec.CleanerTeardown("tests/test_p.py", ("test_p",), cleaner, (0,)))["tests/test_p.py"]
    assert "import pytest\nfrom app import settings\nfrom app.settings import websocket_url\n" in text
    assert ("@pytest.fixture\ndef _undo_test_p():\n"
            '    """What test_clean does to put the state back, after test_p."""\n'
            "    yield\n    settings.reset_environment()\n\n\n"
            '@pytest.mark.usefixtures("_undo_test_p")\ndef test_p():') in text


def test_the_cleaners_fixtures_its_statements_use_become_the_teardowns_parameters() -> None:
    text = edited(CLEANER_FILES, spec.CleanerTeardown("tests/test_p.py", ("test_p",), "tests/test_c.py::test_clean",
                                                 None))["tests/test_p.py"]
    assert "def _undo_test_p(tmp_path):" in text and '    marker = tmp_path / "x"\n' in text


def test_a_cleaners_statements_leave_out_its_docstring_and_assertions() -> None:
    source = textwrap.dedent(CLEANER_FILES["tests/test_c.py"])
    kept = cleaner_statements(source, "tests/test_c.py", "test_clean")
    assert len(kept) == 2


def test_a_fixture_that_returns_a_started_server_yields_it_and_stops_it() -> None:
    files = {
        "tests/conftest.py": '''
            import pytest

            from app.broadcast import BroadcastServer


            @pytest.fixture
            def broadcast_server():
                # The server thread is a daemon, so it goes away with the test process.
                return BroadcastServer("127.0.0.1", 8765).start()
        ''',
        "tests/test_p.py": "def test_p(broadcast_server, tmp_path):\n    pass\n",
    }
    classes = {"app.broadcast": "class BroadcastServer:\n    def start(self):\n        return self\n\n"
                                "    def stop(self):\n        pass\n"}
    sources = {path: textwrap.dedent(text).lstrip("\n") for path, text in files.items()}
    project = Project(read=sources.get, module_of=module_of, first_party=lambda top: top == "app",
                      module_source=classes.get)
    edit = spec.FixtureTeardown("tests/test_p.py", "test_p", ("tests/test_p.py", "tests/conftest.py"))
    changed = apply_plan(spec.CandidatePlan(FixSource.REWRITE, "t", (edit,)), project)
    assert list(changed) == ["tests/conftest.py"]
    assert ("def broadcast_server():\n"
            "    # The server thread is a daemon, so it goes away with the test process.\n"
            '    broadcast_server = BroadcastServer("127.0.0.1", 8765).start()\n'
            "    yield broadcast_server\n    broadcast_server.stop()\n") in changed["tests/conftest.py"]
    without_stop = {"app.broadcast": classes["app.broadcast"].replace("def stop", "def run")}
    with pytest.raises(EditError, match=r"no fixture of test_p returns a started object"):
        apply_plan(spec.CandidatePlan(FixSource.REWRITE, "t", (edit,)),
                   Project(read=sources.get, module_of=module_of, first_party=lambda top: top == "app",
                           module_source=without_stop.get))


def test_an_import_goes_before_the_relative_imports() -> None:
    source = "import os\n\nfrom .helpers import make\n\n\ndef test_p():\n    pass\n"
    text = edited({"tests/test_p.py": source},
                  spec.RestoreState("tests/test_p.py", (leak("environ", "TOKEN", None, "x"),), ()))["tests/test_p.py"]
    assert text.startswith("import os\nfrom unittest.mock import patch\n\nimport pytest\n\nfrom .helpers import make\n")


def test_the_stub_as_written_is_the_second_candidate() -> None:
    edit = spec.StubIntoFixture("tests/unit/test_sm.py", ("websockets",), real_module=False)
    text = edited({"tests/unit/test_sm.py": STUB_FILE}, edit)["tests/unit/test_sm.py"]
    assert 'websockets_stub = MagicMock()\nwebsockets_stubs = {"websockets": websockets_stub}\n' in text
    assert "    with patch.dict(sys.modules, websockets_stubs):\n        yield\n" in text
