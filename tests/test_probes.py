"""The state probes, in this process: snapshots of a project's modules and of the process, and their diff.

The child plugin takes one snapshot per test; here a test changes state between two snapshots
itself, on modules made under tmp_path (so they count as the project's own), and puts back
whatever it changed through monkeypatch.
"""

from __future__ import annotations

import asyncio
import functools
import sys
import threading
import types
from pathlib import Path
from unittest import mock

import pytest

from wsdoctor.child.files import DirectoryEvents, FileWatch
from wsdoctor.child.namespaces import clip, fingerprint
from wsdoctor.child.snapshot import Snapshot, StateProbe, diff


@pytest.fixture(autouse=True)
def private_home_and_temp(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The probes watch the top of HOME and of the temp directory, where the rest of the machine
    writes too (a log in /tmp, the parallel workers' children's temp directories): each test here
    gets its own, and sees only what it does. A test that needs another sets it after this."""
    import tempfile

    private = tmp_path_factory.mktemp("private")
    (private / "home").mkdir()
    (private / "tmp").mkdir()
    monkeypatch.setenv("HOME", str(private / "home"))
    monkeypatch.setattr(tempfile, "tempdir", str(private / "tmp"))


class Manager:
    def __init__(self) -> None:
        self.active: list[str] = []
        self.name = "main"


def project_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str = "probe_app") -> types.ModuleType:
    """A module of the project under tmp_path, with a flag dict, a class and a singleton."""
    module = types.ModuleType(name)
    module.__file__ = str(tmp_path / f"{name}.py")
    settings = type("Settings", (), {"retries": 3, "__module__": name})
    module.__dict__.update(FLAGS={"beta": False}, DEBUG=False, Settings=settings, manager=Manager(), LOOP=None)
    monkeypatch.setitem(sys.modules, name, module)
    return module


Changes = dict[str, tuple[str | None, str | None]]


def changes(probe: StateProbe, before: Snapshot, test_module: object = None) -> Changes:
    return {key: (old, new) for key, old, new in diff(before, probe.snapshot(test_module))}


def test_a_flag_flipped_in_a_dict_a_rebound_global_and_a_class_attribute_are_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = project_module(tmp_path, monkeypatch)
    probe = StateProbe(str(tmp_path))
    before = probe.snapshot()
    app.FLAGS["beta"] = True
    app.DEBUG = True
    app.Settings.retries = 0
    app.manager.active.append("ws-1")
    found = changes(probe, before)
    assert found["module-attr:probe_app.FLAGS"] == ("dict len=1 {'beta': False}", "dict len=1 {'beta': True}")
    assert found["module-attr:probe_app.DEBUG"] == ("False", "True")
    assert found["class-attr:probe_app.Settings.retries"] == ("3", "0")
    assert found["module-attr:probe_app.manager.active"] == ("list len=0", "list len=1")


def test_nothing_changed_is_nothing_said_and_a_section_is_reused(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    project_module(tmp_path, monkeypatch)
    probe = StateProbe(str(tmp_path))
    before = probe.snapshot()
    after = probe.snapshot()
    assert diff(before, after) == []
    assert after["project-modules"] is before["project-modules"]  # rebuilt only when something changed


def test_process_state_left_changed_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    probe = StateProbe(str(tmp_path))
    before = probe.snapshot()
    monkeypatch.setenv("WSDOCTOR_PROBE_LEAK", "1")
    monkeypatch.syspath_prepend(str(tmp_path / "nowhere"))
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="probe-thread", daemon=True)
    thread.start()
    patcher = mock.patch("os.getpid", return_value=1)
    patcher.start()
    try:
        found = changes(probe, before)
    finally:
        patcher.stop()
        stop.set()
        thread.join()
    assert found["environ:WSDOCTOR_PROBE_LEAK"] == (None, "1")
    assert found[f"sys.path:{tmp_path / 'nowhere'}"] == (None, "present")
    assert found["thread:probe-thread"] == (None, "daemon")
    assert found["patcher:os.getpid"] == (None, "active")


def test_a_mock_put_into_sys_modules_is_named_and_a_new_import_is_not(monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    probe = StateProbe(str(tmp_path))
    before = probe.snapshot()
    monkeypatch.setitem(sys.modules, "json", mock.MagicMock())
    monkeypatch.setitem(sys.modules, "probe_new_module", types.ModuleType("probe_new_module"))
    found = changes(probe, before)
    assert found["sys.modules:json"][1].startswith("MagicMock @")  # type: ignore[union-attr]
    assert not any(key.startswith("sys.modules:probe_new_module") for key in found)


def test_a_test_modules_own_globals_join_when_its_tests_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    test_module = project_module(tmp_path, monkeypatch, "test_probed")
    test_module.LOCAL = []
    probe = StateProbe(str(tmp_path))
    before = probe.with_test_module(probe.snapshot(), test_module)
    test_module.LOCAL.append(1)
    assert changes(probe, before, test_module)["module-attr:test_probed.LOCAL"] == ("list len=0", "list len=1")


@pytest.mark.parametrize(("value", "expected"), [
    (None, "None"), (3, "3"), ("x" * 200, "'" + "x" * 116 + "..."),
    ({"b": 1, "a": 2}, "dict len=2 {'a': 2, 'b': 1}"),
    ({"k": [1, 2], "j": [3]}, "dict len=2 (holding 3) keys=['j', 'k']"),
    ([1, 2, 3], "list len=3"), (set(), "set len=0"),
])
def test_fingerprints_show_what_tests_trip_over(value: object, expected: str) -> None:
    assert fingerprint(value) == expected


def test_fingerprints_of_mocks_caches_and_loops() -> None:
    called = mock.MagicMock()
    called()
    assert fingerprint(called).startswith("MagicMock calls=1 @")

    @functools.lru_cache
    def cached(n: int) -> int:
        return n

    cached(1)
    assert fingerprint(cached) == "lru_cache currsize=1"
    loop = asyncio.new_event_loop()
    loop.close()
    assert fingerprint(loop) == "event loop (closed)"
    assert fingerprint(object()).startswith("object @")
    assert clip("short") == "short"


# --- modules first imported inside a test ------------------------------------------------------------------

IMPORTED_IN_A_TEST = {
    "late_app/__init__.py": "",
    "late_app/optional_driver.py": "import a_dependency_not_installed_wsdoctor\n",
    "late_app/state.py": """\
import asyncio
import functools

DEBUG = False
LOOP = None


class Heartbeat:
    interval = 30.0


class Manager:
    def __init__(self):
        self.active_connections = {}


manager = Manager()


@functools.lru_cache
def get_settings():
    return {"url": "ws://127.0.0.1/ws"}
""",
    "late_app/main.py": """\
from late_app import registry

registry.install_defaults()  # importing main fills the registry: that is the baseline, not a change
""",
    "late_app/registry.py": """\
REGISTRY = {}


def install_defaults():
    REGISTRY["json"] = "codec"
""",
}


@pytest.fixture
def late_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A package under tmp_path that nothing has imported yet, and a probe watching first imports."""
    from wsdoctor.child.first_imports import FirstImports

    for name, text in IMPORTED_IN_A_TEST.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [n for n in sys.modules if n.startswith("late_app")]:
        monkeypatch.delitem(sys.modules, name)
    probe = StateProbe(str(tmp_path))
    baselines: dict[str, str] = {}
    imported: list[list[str]] = []

    def remember(names: list[str]) -> None:
        imported.append(names)
        baselines.update(probe.baseline(names))

    watch = FirstImports(probe.is_project_module_file, remember)
    watch.install()
    yield probe, baselines, imported
    watch.uninstall()
    for name in [n for n in sys.modules if n.startswith("late_app")]:
        sys.modules.pop(name)


def test_a_module_whose_import_failed_is_no_baseline_and_its_absence_no_change(late_app) -> None:  # type: ignore[no-untyped-def]
    """An optional dependency missing: the import system takes the module out again. On main each
    test that tried it was said to leave `module-seen late_app.optional_driver: '' -> (absent)`."""
    import importlib

    probe, baselines, imported = late_app
    before = probe.snapshot()
    with pytest.raises(ImportError):
        importlib.import_module("late_app.optional_driver")
    assert imported == [["late_app"]]  # the package: its import ended well
    assert not [key for key in changes_with_baselines(probe, before, baselines) if "optional_driver" in key]


def changes_with_baselines(probe: StateProbe, before: Snapshot, baselines: dict[str, str]) -> Changes:
    from wsdoctor.child.snapshot import with_baselines

    return {key: (old, new) for key, old, new in diff(with_baselines(before, baselines), probe.snapshot())}


def test_a_module_first_imported_inside_a_test_is_compared_with_its_state_right_after_the_import(
        late_app) -> None:  # type: ignore[no-untyped-def]
    probe, baselines, imported = late_app
    before = probe.snapshot()
    from late_app import state  # type: ignore[import-not-found]  # inside the "test", as real suites do

    state.DEBUG = True
    state.Heartbeat.interval = 0.05
    state.manager.active_connections["lobby"] = ["ws-1"]
    state.get_settings()
    loop = asyncio.new_event_loop()
    loop.close()
    state.LOOP = loop
    found = changes_with_baselines(probe, before, baselines)
    assert imported == [["late_app"], ["late_app.state"]]
    assert found["module-attr:late_app.state.DEBUG"] == ("False", "True")
    assert found["class-attr:late_app.state.Heartbeat.interval"] == ("30.0", "0.05")
    assert found["module-attr:late_app.state.manager.active_connections"] == (
        "dict len=0", "dict len=1 (holding 1) keys=['lobby']")
    assert found["module-attr:late_app.state.get_settings"] == ("lru_cache currsize=0", "lru_cache currsize=1")
    assert found["module-attr:late_app.state.LOOP"] == ("None", "event loop (closed)")
    assert state.__loader__.__class__.__name__ == "SourceFileLoader"  # the module sees its own loader


def test_a_module_imported_and_left_alone_is_no_change_and_its_importers_effects_are_its_baseline(
        late_app) -> None:  # type: ignore[no-untyped-def]
    probe, baselines, imported = late_app
    before = probe.snapshot()
    import late_app.main  # type: ignore[import-not-found]  # imports registry, fills it

    assert imported == [["late_app"], ["late_app.registry", "late_app.main"]]
    assert changes_with_baselines(probe, before, baselines) == {}


def echo() -> None: ...


def shouting_echo() -> None: ...


def test_a_handler_replaced_in_a_small_registry_changes_its_fingerprint() -> None:
    registry: dict[str, object] = {"echo": echo, "ping": print}
    before = fingerprint(registry)
    registry["echo"] = shouting_echo
    assert before == f"dict len=2 {{'echo': {__name__}.echo, 'ping': builtins.print}}"
    assert fingerprint(registry) == f"dict len=2 {{'echo': {__name__}.shouting_echo, 'ping': builtins.print}}"


DEFAULTS_APP = """\
import functools


def serve(host="127.0.0.1", port=8000, *, backlog=100):
    return host, port, backlog


def remember(event, seen=[]):
    seen.append(event)
    return len(seen)


def open_connection(url, timeout):
    return url, timeout


connect = functools.partial(open_connection, "ws://127.0.0.1/ws", timeout=5)


class GZip:
    def __init__(self, minimum_size=500, level=9):
        self.minimum_size = minimum_size

    @staticmethod
    def accepts(header, token="gzip"):
        return token in header
"""


def test_a_functions_defaults_and_a_partials_arguments_are_state(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    app = project_module(tmp_path, monkeypatch, "defaults_app")
    exec(DEFAULTS_APP, vars(app))  # the functions are the module's own
    probe = StateProbe(str(tmp_path))
    before = probe.snapshot()
    app.GZip.__init__.__defaults__ = (10000, 9)  # a benchmark test "tunes" the middleware for good
    app.serve.__kwdefaults__ = {"backlog": 1}
    app.GZip.accepts.__defaults__ = ("br",)
    app.remember("connected")  # the mutable default grows
    app.connect.keywords["timeout"] = 0
    found = changes(probe, before)
    assert found["class-attr:defaults_app.GZip.__init__.__defaults__"] == ("(500, 9)", "(10000, 9)")
    assert found["module-attr:defaults_app.serve.__kwdefaults__"] == ("{'backlog': 100}", "{'backlog': 1}")
    assert found["class-attr:defaults_app.GZip.accepts.__defaults__"] == ("('gzip',)", "('br',)")
    assert found["module-attr:defaults_app.remember.__defaults__"] == ("(list len=0)", "(list len=1)")
    assert found["module-attr:defaults_app.connect"] == (
        "partial(defaults_app.open_connection, 'ws://127.0.0.1/ws', timeout=5)",
        "partial(defaults_app.open_connection, 'ws://127.0.0.1/ws', timeout=0)")
    assert "module-attr:defaults_app.serve.__defaults__" not in found  # untouched


def test_a_value_bound_under_two_names_keeps_its_history_under_each(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # starlette.routing does `from starlette.convertors import CONVERTOR_TYPES`; a test registers
    # a convertor, and a module fixture rebinds convertors.CONVERTOR_TYPES to a copy made before:
    # the routing module keeps the registration, and it was there before the fixture ran.
    convertors = project_module(tmp_path, monkeypatch, "conv_app")
    convertors.__dict__.update(CONVERTOR_TYPES={"int": "IntegerConvertor"})
    routing = project_module(tmp_path, monkeypatch, "conv_routing")
    routing.__dict__.update(CONVERTOR_TYPES=convertors.CONVERTOR_TYPES)
    probe = StateProbe(str(tmp_path))
    saved = dict(convertors.CONVERTOR_TYPES)
    before_test = probe.snapshot()
    convertors.CONVERTOR_TYPES["datetime"] = "DateTimeConvertor"
    after_test = probe.snapshot()
    convertors.CONVERTOR_TYPES = saved  # the fixture's teardown
    by_test = {key: change for key, change in changes(probe, before_test).items() if "CONVERTOR" in key}
    by_fixture = changes(probe, after_test)
    before, after = "dict len=1 {'int': 'IntegerConvertor'}", \
        "dict len=2 {'datetime': 'DateTimeConvertor', 'int': 'IntegerConvertor'}"
    assert diff(before_test, after_test) == [("module-attr:conv_app.CONVERTOR_TYPES", before, after),
                                             ("module-attr:conv_routing.CONVERTOR_TYPES", before, after)]
    assert by_fixture == {"module-attr:conv_app.CONVERTOR_TYPES": (after, before)}  # routing's stays
    assert by_test == {"module-attr:conv_routing.CONVERTOR_TYPES": (before, after)}  # over both: still there


class Connection:
    def __init__(self) -> None:
        self.myself = self  # a reference cycle: only the garbage collector frees it


def test_the_probes_keep_nothing_alive_that_a_test_took_out_of_a_container(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc
    import weakref

    app = project_module(tmp_path, monkeypatch)
    app.manager.active = [Connection(), "ws-2"]
    probe = StateProbe(str(tmp_path))
    before = probe.snapshot()
    released = weakref.ref(app.manager.active[0])
    app.manager.active.clear()  # a test resets the registry and counts on the collector
    gc.collect()
    assert released() is None
    assert changes(probe, before)["module-attr:probe_app.manager.active"] == ("list len=2", "list len=0")


# --- files ------------------------------------------------------------------------------------------------


@pytest.fixture(params=["inotify", "mtimes"])
def places(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """A project tree, a HOME and a temp directory, all under tmp_path; the directories watched by
    inotify, or (where it is not available) by their mtimes."""
    import tempfile

    if request.param == "mtimes":
        monkeypatch.setattr(DirectoryEvents, "open", classmethod(lambda cls: None))

    root, home, temp = tmp_path / "project", tmp_path / "home", tmp_path / "temp"
    for path in (root / "tests" / "__pycache__", home, temp):
        path.mkdir(parents=True)
    (root / "settings.ini").write_text("[app]\ndebug = false\n")
    (root / "stale.json").write_text("{}")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return root, home, temp


def test_files_created_changed_or_deleted_in_the_tree_home_and_temp_dir_are_named(places) -> None:  # type: ignore[no-untyped-def]
    root, home, temp = places
    probe = StateProbe(str(root), deep_files=True)
    before = probe.snapshot()
    (root / "feature_flags.json").write_text('{"compression": false}')
    (root / "settings.ini").write_text("[app]\ndebug = true\n")  # rewritten in place
    (root / "stale.json").unlink()
    (root / "tests" / "__pycache__" / "x.pyc").write_bytes(b"")  # bytecode: not state
    (home / ".wsclientrc").write_text("reconnect = false\n")
    (temp / "session.sqlite").write_bytes(b"\0" * 10)
    (temp / "pytest-of-root").mkdir()  # pytest's own base temp: not the tests' doing
    found = changes(probe, before)
    files = {key: value for key, value in found.items() if key.startswith("file:")}
    assert set(files) == {"file:feature_flags.json", "file:settings.ini", "file:stale.json", "file:~/.wsclientrc",
                          "file:$TMPDIR/session.sqlite"}
    assert files["file:feature_flags.json"][0] is None and files["file:feature_flags.json"][1].startswith("22 bytes")
    assert files["file:stale.json"][1] is None
    assert files["file:settings.ini"][0] != files["file:settings.ini"][1]


def test_without_the_deep_look_only_directories_are_stat_ed_and_a_new_home_is_no_change(places,  # type: ignore[no-untyped-def]
                                                                                        monkeypatch) -> None:
    root, home, _ = places
    probe = StateProbe(str(root))
    before = probe.snapshot()
    (root / "settings.ini").write_text("[app]\ndebug = true\n")  # no directory changed: not seen here
    (root / "tests" / "out").mkdir()
    other_home = home.parent / "other-home"
    other_home.mkdir()
    (other_home / ".profile").write_text("")
    monkeypatch.setenv("HOME", str(other_home))  # a fixture points HOME elsewhere: what is there was there
    found = {key for key in changes(probe, before) if key.startswith("file:")}
    assert found == {"file:tests/out"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")
def test_with_inotify_a_snapshot_where_no_directory_changed_stats_none_of_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wsdoctor.child import files

    for number in range(30):
        (tmp_path / "tree" / f"package_{number}").mkdir(parents=True)
    watch = FileWatch(str(tmp_path / "tree"))
    first = watch.signature()
    watch.sections()
    stats: list[str] = []
    monkeypatch.setattr(files, "mtime", lambda path: stats.append(path) or 0)
    assert watch.signature() == watch.signature()
    assert stats == []
    (tmp_path / "tree" / "package_7" / "settings.json").write_text("{}")
    assert watch.signature() != first
    assert "file:package_7/settings.json" in watch.sections()["files:tree"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")
def test_when_the_kernel_refuses_a_watch_the_directories_mtimes_are_compared_again(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "tests").mkdir(parents=True)
    probe = StateProbe(str(root))
    before = probe.snapshot()
    events = probe._files._events
    assert events is not None
    events.close()  # its watches end, as when the kernel's limit is reached
    (root / "tests" / "conftest_local.py").write_text("")
    assert {key for key in changes(probe, before) if key.startswith("file:")} == {"file:tests/conftest_local.py"}


def test_a_value_changed_and_put_back_within_a_test_is_no_change() -> None:
    from wsdoctor.child.plugin import _net

    seen = [["module-attr:app.ws.manager", "A @1", "B @2"], ["environ:X", None, "1"],
            ["module-attr:app.ws.manager", "B @2", "A @1"], ["environ:X", "1", "2"]]
    assert _net(seen) == [["environ:X", None, "2"]]


def test_a_home_inside_the_tree_is_named_once_from_home(places, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    root, _, _ = places
    home = root / ".home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    probe = StateProbe(str(root))
    before = probe.snapshot()
    (home / ".netrc").write_text("machine example.org\n")
    assert {key for key in changes(probe, before) if key.startswith("file:")} == {"file:~/.netrc"}


def test_the_dict_version_this_interpreter_keeps_is_read_and_changes_with_every_change() -> None:
    from wsdoctor.child import dict_versions

    if sys.implementation.name != "cpython" or sys.version_info >= (3, 14):
        pytest.skip("PEP 509's dict version is CPython's, up to 3.13")
    assert dict_versions.AVAILABLE
    watched: dict[str, object] = {"a": 1}
    versions = dict_versions.DictVersions([watched, {}])
    first = versions.now()
    assert versions.now() == first  # nothing changed: the same version
    watched["a"] = object()
    assert versions.now() != first


def test_without_ctypes_dict_versions_are_not_used_and_nothing_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from wsdoctor.child import dict_versions

    monkeypatch.setitem(sys.modules, "ctypes", None)  # a Python built without libffi: `import ctypes` fails
    try:
        assert importlib.reload(dict_versions).AVAILABLE is False
    finally:
        monkeypatch.undo()
        importlib.reload(dict_versions)


def test_a_key_of_sys_modules_rebound_to_a_mock_is_named_though_the_size_did_not_change(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    probe = StateProbe(str(tmp_path))
    before = probe.snapshot()
    assert probe.snapshot() is before  # nothing changed: the very snapshot, and no diff to make
    size = len(sys.modules)
    monkeypatch.setitem(sys.modules, "json", mock.MagicMock())
    assert len(sys.modules) == size
    after = probe.snapshot()
    assert [key for key, _, _ in diff(before, after)] == ["sys.modules:json"]
    monkeypatch.setitem(sys.modules, "json", sys.modules["json"])  # the same object again: no change
    assert diff(after, probe.snapshot()) == []


def test_a_global_changed_and_put_back_is_no_change_and_one_rebound_later_is_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = project_module(tmp_path, monkeypatch)
    probe = StateProbe(str(tmp_path))
    before = probe.snapshot()
    app.DEBUG = True
    app.DEBUG = False  # the module's dict changed twice, its values are as they were
    assert diff(before, probe.snapshot()) == []
    app.Settings.retries = 5  # a class of the module: its attributes are compared one by one
    exec("global LOOP\nLOOP = 'rebound by a global statement'", vars(app))
    found = changes(probe, before)
    assert found["class-attr:probe_app.Settings.retries"] == ("3", "5")
    assert found["module-attr:probe_app.LOOP"] == ("None", "'rebound by a global statement'")


def test_a_new_home_or_temp_directory_is_watched_from_the_next_snapshot(places, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    root, home, temp = places
    probe = StateProbe(str(root))
    assert {f"files:home:{home}", f"files:temp:{temp}"} <= set(probe.snapshot())
    other_home, other_temp = home.parent / "other-home", temp.parent / "other-temp"
    other_home.mkdir()
    other_temp.mkdir()
    monkeypatch.setenv("HOME", str(other_home))
    assert f"files:home:{other_home}" in probe.snapshot()
    monkeypatch.setattr(tempfile, "tempdir", str(other_temp))
    assert f"files:temp:{other_temp}" in probe.snapshot()
    monkeypatch.setenv("HOME", str(other_home))  # the same text again, a new object: the same places
    assert {f"files:home:{other_home}", f"files:temp:{other_temp}"} <= set(probe.snapshot())
