"""Benchmark `wsdoctor bisect` against detect-test-pollution on generated, polluted pytest projects.

For every size N (--sizes, default 200, 2000, 5000) it generates one project per kind of
pollution: N tests in files of about 20, an `app/` package, all passing but one planted victim
that fails only after its planted polluter(s). The polluter sits in the middle of the suite, the
victim near its end. Kinds:

  module-global   a test sets app.config.DEBUG = True; the victim expects False
  singleton       a test registers into app.registry.REGISTRY; the victim expects it empty
  env-var         a test sets os.environ["APP_MODE"]; the victim expects the default
  sys-modules     a test FILE puts a MagicMock in sys.modules["app.optional"] when imported
  patcher         a test starts patch("app.clock.now", return_value=0) and never stops it
  closed-loop     a test leaves a closed event loop in app.loop_holder.LOOP
  conjunction     two tests, each harmless alone, set app.flags.FLAGS["beta"] and
                  app.cache.CACHE["theme"]; the victim fails only after both
  blind           a test flips a switch kept in a closure (app.hidden): state the probes cannot
                  see, as a C extension's or a third-party object's would be; the search has no
                  evidence to start from

And two import styles (--styles): "module", the app imported at the top of every test file,
and "body", the app imported inside every test and fixture body (as many real suites do), so
that no app module exists until the first test that runs imports it.

On each project it times (time.perf_counter, wall clock):

  python -m wsdoctor bisect VICTIM --json FILE --workers 2
  detect-test-pollution --failing-test VICTIM --tests tests   (when installed)

and checks the answers against what was planted. detect-test-pollution is looked for next to
this interpreter, then next to --python, then on PATH (or --dtp); when absent its columns say
"not installed". Its pytest runs are counted from the steps it prints (the collection run that
discovers the tests is counted apart, as wsdoctor's `runs` leaves out collection too).

Every command's CPU time (user + system, from getrusage of the children) is recorded beside its
wall time: other work on the machine stretches wall times, CPU times much less.

It also times the child plugin's overhead on the 2,000-test module-global project, median of
--rounds rounds: python -m pytest -q -p no:cacheprovider -p no:randomly, plain, then with
-p wsdoctor.child.plugin --wsdoctor-out=DIR, then with --wsdoctor-probe as well; each with an
empty temp directory of its own (TMPDIR), as wsdoctor gives every child.

Targets (PASS/MISS): a single polluter the probes see at N=2,000 in at most 5 child runs, with its
leaked state named, in both import styles, and (module style) at most 0.35x detect-test-pollution's
wall time; the blind kind at N=2,000 in at most log2(N) + 4 runs and at most 0.5x
detect-test-pollution's wall time; the conjunction in at most 3*log2(N) runs; probes adding at
most 15% to a plain suite run: (with probes - with the plugin alone) / plain pytest. The plugin's
own cost is `wsdoctor run`'s overhead, which bench_run.py measures against its own target; the
ratio of plugin and probes together to plain pytest is printed for reference.

Usage: python benchmarks/bench_bisect.py [--sizes 200,2000,5000] [--kinds KIND,...] [--styles module,body]
                                         [--rounds 5] [--python PATH] [--dtp PATH] [--json FILE] [--keep DIR]

Only the standard library; every measured command is a subprocess. Exit code 0 when the
benchmark ran (targets missed or not), 1 when it could not run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench_common import (  # next to this script: run it as a file
    APP_INVENTORY,
    APP_TEXT,
    CONFTEST,
    PYTEST_INI,
    child_environment,
    class_tests,
    fixture_tests,
    in_work_dir,
    param_tests,
    plain_tests,
    tests_per_file,
)

try:
    import resource
except ImportError:  # Windows: wall times only
    resource = None  # type: ignore[assignment]

DEFAULT_SIZES = (200, 2000, 5000)
TESTS_PER_FILE = 20
MIN_SIZE = 100
COMMAND_TIMEOUT = 3600.0
OUTPUT_TAIL = 2000
STATE_DIR = ".wsdoctor"
DTP = "detect-test-pollution"
NOT_INSTALLED = "not installed"
WORKERS = 2
TARGET_SIZE = 2000
TARGET_RUNS = 5
TARGET_TIME_RATIO = 0.35
TARGET_BLIND_TIME_RATIO = 0.5
TARGET_OVERHEAD = 1.15
STYLES = ("module", "body")
APP_IMPORTS = ("from app import cache, clock, config, flags, hidden, loop_holder, registry, settings, text, theme",
               "from app.inventory import Inventory")
PYTEST_PLAIN = ("-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly")


# --- the generated projects -------------------------------------------------------------------------------

APP_MODULES = {
    "__init__.py": '"""A small application for the bisect benchmark to import."""\n',
    "text.py": APP_TEXT,
    "inventory.py": APP_INVENTORY,
    "config.py": '''\
        """Module-level settings, switched on by the debug toolbar."""

        DEBUG = False
        LOG_LEVEL = "INFO"


        def describe() -> str:
            return "debug" if DEBUG else "production"
        ''',
    "registry.py": '''\
        """A process-wide plugin registry."""

        REGISTRY: dict[str, object] = {}


        def register(name: str, factory: object) -> None:
            if name in REGISTRY:
                raise ValueError(f"{name} is already registered")
            REGISTRY[name] = factory


        def unregister(name: str) -> None:
            REGISTRY.pop(name, None)


        def lookup(name: str) -> object:
            return REGISTRY[name]


        def names() -> list[str]:
            return sorted(REGISTRY)
        ''',
    "settings.py": '''\
        """Settings from the environment."""

        import os


        def mode() -> str:
            return os.environ.get("APP_MODE", "production")


        def is_production() -> bool:
            return mode() == "production"
        ''',
    "optional.py": '''\
        """An optional accelerated backend; some tests stub it out."""

        BACKEND = "native"


        def backend_name() -> str:
            return BACKEND
        ''',
    "clock.py": '''\
        """Wall-clock time, patched in tests."""

        import time


        def now() -> float:
            return time.time()


        def elapsed(since: float) -> float:
            return now() - since
        ''',
    "loop_holder.py": '''\
        """One event loop for the synchronous parts of the app, created on first use."""

        import asyncio

        LOOP = None


        def get_loop():
            global LOOP
            if LOOP is None:
                LOOP = asyncio.new_event_loop()
            return LOOP


        def run(coro):
            return get_loop().run_until_complete(coro)
        ''',
    "flags.py": '''\
        """Feature flags."""

        FLAGS = {"beta": False, "new_ui": False}


        def enabled(name: str) -> bool:
            return FLAGS.get(name, False)
        ''',
    "cache.py": '''\
        """A process-wide cache of user preferences."""

        CACHE: dict[str, str] = {}


        def remember(key: str, value: str) -> None:
            CACHE[key] = value
        ''',
    "hidden.py": '''\
        """A switch kept in a closure: no module-level name changes when it is flipped."""


        def _switch():
            state = {"debug": False}

            def is_on():
                return state["debug"]

            def turn(value):
                state["debug"] = value

            return is_on, turn


        debug_is_on, turn_debug = _switch()
        ''',
    "theme.py": '''\
        """The UI theme: beta users see their cached preference."""

        from app import cache, flags


        def current_theme() -> str:
            if flags.enabled("beta") and "theme" in cache.CACHE:
                return cache.CACHE["theme"]
            return "light"
        ''',
}



MODULE_HEAD = '''\
"""Generated bisect-benchmark tests, module {index}."""

import asyncio
import os
from unittest.mock import patch

import pytest
'''
_DEF_LINE = re.compile(r"^(?P<indent>[ ]*)(?:async )?def \w+\(.*\):[ ]*$")


def imports_in_bodies(block: str) -> str:
    """``block`` with the app imported as the first lines of every function's body."""
    lines = []
    for line in block.splitlines(keepends=True):
        lines.append(line)
        found = _DEF_LINE.match(line.rstrip("\n"))
        if found:
            lines += [found.group("indent") + "    " + text + "\n" for text in APP_IMPORTS]
    return "".join(lines)

IMPORT_POISON = '''
import sys
from unittest.mock import MagicMock

# The optional backend needs a compiler; these tests never use it, so stub it out.
sys.modules["app.optional"] = MagicMock()
'''

# Tests that touch the same state as the polluters, and put it back (fixtures, monkeypatch, `with`).
CLEAN_STATE_TESTS = (
    '''\
    def test_debug_describe_{k}(monkeypatch):
        monkeypatch.setattr(config, "DEBUG", True)
        assert config.describe() == "debug"
    ''',
    '''\
    def test_mode_from_env_{k}(monkeypatch):
        monkeypatch.setenv("APP_MODE", "qa-{k}")
        assert settings.mode() == "qa-{k}"
        assert not settings.is_production()
    ''',
    '''\
    def test_elapsed_with_frozen_clock_{k}():
        with patch("app.clock.now", return_value={k}.5):
            assert clock.elapsed({k}.0) == 0.5
    ''',
    '''\
    @pytest.fixture
    def temporary_entry():
        registry.register("temp-{k}", list)
        yield "temp-{k}"
        registry.unregister("temp-{k}")


    def test_lookup_registered_{k}(temporary_entry):
        assert registry.lookup(temporary_entry) is list
    ''',
    '''\
    def test_beta_theme_{k}(monkeypatch):
        monkeypatch.setitem(flags.FLAGS, "beta", True)
        monkeypatch.setitem(cache.CACHE, "theme", "solarized")
        assert theme.current_theme() == "solarized"
    ''',
    '''\
    def test_private_loop_{k}():
        loop = asyncio.new_event_loop()
        try:
            assert loop.run_until_complete(asyncio.sleep(0, result={k})) == {k}
        finally:
            loop.close()
    ''',
)


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of pollution: where its polluters go (fractions of the file count) and their code."""

    key: str
    label: str
    polluters: tuple[tuple[float, str], ...]  # (position, test source); empty source: the file itself
    victim: str
    import_poison: bool = False

    @property
    def scope(self) -> str:
        if self.import_poison:
            return "file-import"
        return "test" if len(self.polluters) == 1 else "tests"


KINDS = (
    Kind("module-global", "module global (app.config.DEBUG)",
         ((0.5, '''\
            def test_debug_toolbar_renders():
                config.DEBUG = True
                assert config.describe() == "debug"
            '''),),
         '''\
            def test_default_mode_is_production():
                assert config.DEBUG is False
                assert config.describe() == "production"
            '''),
    Kind("singleton", "singleton container (app.registry.REGISTRY)",
         ((0.5, '''\
            def test_register_audit_plugin():
                registry.register("audit", dict)
                assert registry.lookup("audit") is dict
            '''),),
         '''\
            def test_registry_starts_empty():
                assert len(registry.REGISTRY) == 0
                assert registry.names() == []
            '''),
    Kind("env-var", "env var (APP_MODE)",
         ((0.5, '''\
            def test_staging_banner():
                os.environ["APP_MODE"] = "staging"
                assert settings.mode() == "staging"
            '''),),
         '''\
            def test_default_mode_from_env():
                assert settings.mode() == "production"
                assert settings.is_production()
            '''),
    Kind("sys-modules", "sys.modules at import (app.optional)", ((0.5, ""),),
         '''\
            def test_optional_backend_is_native():
                from app.optional import backend_name

                assert backend_name() == "native"
            ''', import_poison=True),
    Kind("patcher", "leaked patcher (app.clock.now)",
         ((0.5, '''\
            def test_report_with_frozen_clock():
                patch("app.clock.now", return_value=0).start()
                assert clock.now() == 0
            '''),),
         '''\
            def test_clock_is_running():
                assert clock.now() > 0
            '''),
    Kind("closed-loop", "closed loop (app.loop_holder.LOOP)",
         ((0.5, '''\
            def test_shutdown_closes_loop():
                loop_holder.LOOP = asyncio.new_event_loop()
                loop_holder.LOOP.close()
                assert loop_holder.LOOP.is_closed()
            '''),),
         '''\
            def test_run_coroutine_on_app_loop():
                async def answer():
                    return 42

                assert loop_holder.run(answer()) == 42
            '''),
    Kind("blind", "blind: a switch in a closure (app.hidden)",
         ((0.5, '''\
            def test_debug_switch_for_the_support_session():
                hidden.turn_debug(True)
                assert hidden.debug_is_on()
            '''),),
         '''\
            def test_debug_is_off_by_default():
                assert hidden.debug_is_on() is False
            '''),
    Kind("conjunction", "conjunction (FLAGS['beta'] + CACHE['theme'])",
         ((1 / 3, '''\
            def test_enable_beta_program():
                flags.FLAGS["beta"] = True
                assert flags.enabled("beta")
            '''),
          (2 / 3, '''\
            def test_remember_dark_theme():
                cache.CACHE["theme"] = "dark"
                assert cache.CACHE["theme"] == "dark"
            ''')),
         '''\
            def test_default_theme_is_light():
                assert theme.current_theme() == "light"
            '''),
)
KIND_KEYS = tuple(kind.key for kind in KINDS)
# The leaked state bisect must name, a prefix of its name (the blind kind has none the probes see).
PLANTED_LEAKS = {"module-global": "app.config.DEBUG", "singleton": "app.registry.REGISTRY", "env-var": "APP_MODE",
                 "sys-modules": "app.optional", "patcher": "app.clock.now", "closed-loop": "app.loop_holder.LOOP",
                 "conjunction": "app.flags.FLAGS"}


@dataclass(frozen=True, slots=True)
class Project:
    kind: Kind
    size: int
    root: Path
    victim: str  # node id
    polluters: tuple[str, ...]  # node ids, or the file whose import pollutes
    style: str = "module"  # where the tests import the app: "module" (top of file) or "body"


def function_name(source: str) -> str:
    found = re.search(r"^def (test_\w+)\(", source, re.MULTILINE)
    if found is None:
        raise ValueError(f"no test function in {source!r}")
    return found.group(1)


def innocent_tests(index: int, count: int) -> list[str]:
    """``count`` passing tests: state handled cleanly, fixtures, a class, parameters, plain ones."""
    state = [textwrap.dedent(CLEAN_STATE_TESTS[(index + step) % len(CLEAN_STATE_TESTS)]).format(k=index)
             for step in (0, 3)][: min(2, count)]
    rest = count - len(state)
    fixture, methods, params = rest // 4, rest // 4, rest // 4
    blocks = [*state, *plain_tests(index, rest - fixture - methods - params, thorough=False)]
    return [*blocks, *fixture_tests(index, fixture, thorough=False), *class_tests(index, methods, thorough=False),
            *param_tests(index, params)]


def module_text(index: int, count: int, planted: Sequence[str], poison: bool, style: str = "module") -> str:
    """A test module: planted tests go after the first half of the innocent ones."""
    blocks = innocent_tests(index, count - len(planted))
    middle = len(blocks) // 2
    blocks = [*blocks[:middle], *(textwrap.dedent(p) for p in planted), *blocks[middle:]]
    head = MODULE_HEAD.format(index=index)
    if style == "body":
        blocks = [imports_in_bodies(block) for block in blocks]
    else:
        head += "\n" + "\n".join(APP_IMPORTS) + "\n"
    return head + (IMPORT_POISON if poison else "") + "".join("\n\n" + block for block in blocks)


def write_project(root: Path, kind: Kind, size: int, style: str = "module") -> Project:
    (root / "app").mkdir(parents=True)
    (root / "tests").mkdir()
    for name, text in APP_MODULES.items():
        (root / "app" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    (root / "tests" / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (root / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
    counts = tests_per_file(size, max(1, round(size / TESTS_PER_FILE)))
    width = max(3, len(str(len(counts) - 1)))  # names sort as they are numbered: collection order
    files = [f"tests/test_mod_{index:0{width}d}.py" for index in range(len(counts))]
    victim_file = len(files) - 2
    planted: dict[int, list[str]] = {victim_file: [kind.victim]}
    polluters: list[str] = []
    for position, source in kind.polluters:
        index = min(int(len(files) * position), victim_file - 1)
        if source:
            planted.setdefault(index, []).append(source)
            polluters.append(f"{files[index]}::{function_name(textwrap.dedent(source))}")
        else:
            polluters.append(files[index])
    poisoned = {files.index(p) for p in polluters if p in files}
    for index, (path, count) in enumerate(zip(files, counts, strict=True)):
        text = module_text(index, count, planted.get(index, []), index in poisoned, style)
        (root / path).write_text(text, encoding="utf-8")
    victim = f"{files[victim_file]}::{function_name(textwrap.dedent(kind.victim))}"
    return Project(kind=kind, size=size, root=root, victim=victim, polluters=tuple(polluters), style=style)


# --- running ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finished:
    seconds: float
    returncode: int | None  # None: timed out
    stdout: str
    stderr: str
    cpu: float | None = None  # user + system seconds of the command and the children it waited for


def run_timed(command: Sequence[str], cwd: Path, temp: Path | None = None) -> Finished:
    """Wall time, and CPU time: other work on the machine stretches the first much more than the second.
    With ``temp``, the command's temp directory (TMPDIR) is that one instead of the machine's."""
    env = child_environment(cwd)
    if temp is not None:
        env.update(TMPDIR=str(temp), TEMP=str(temp), TMP=str(temp))
    cpu_before = children_cpu()
    started = time.perf_counter()
    try:
        done = subprocess.run(list(command), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as expired:
        return Finished(time.perf_counter() - started, None, _text(expired.stdout), _text(expired.stderr))
    seconds = time.perf_counter() - started
    cpu_after = children_cpu()
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return Finished(seconds, done.returncode, done.stdout, done.stderr, cpu)


def children_cpu() -> float | None:
    if resource is None:
        return None
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _text(data: str | bytes | None) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return data or ""


def tail(text: str) -> str:
    return text[-OUTPUT_TAIL:]


@dataclass(slots=True)
class ToolResult:
    """One tool's answer on one project."""

    status: str  # "ran", "error", "timeout" or NOT_INSTALLED
    seconds: float | None = None
    cpu_seconds: float | None = None
    runs: int | None = None  # child pytest runs, collection not counted
    found: list[str] = field(default_factory=list)
    scope: str | None = None
    correct: bool | None = None
    named: bool | None = None  # the planted leak in its leaked_state (None: nothing to name, or not told)
    outcome: str = ""  # what the tool said or did, in a line
    details: dict[str, Any] = field(default_factory=dict)


def warm_up(python: str, project: Path) -> None:
    """Compile the project's bytecode and fill the page cache before anything is timed."""
    run_timed((python, *PYTEST_PLAIN, "--collect-only"), project)


def run_wsdoctor(python: str, project: Project, out: Path, budget: str | None) -> ToolResult:
    command = (python, "-m", "wsdoctor", "bisect", project.victim, "--json", str(out),
               "--workers", str(WORKERS), *(("--budget", budget) if budget else ()))
    done = run_timed(command, project.root)
    if done.returncode is None:
        return ToolResult("timeout", done.seconds, outcome=f"no answer in {COMMAND_TIMEOUT:.0f} s")
    if not out.exists():
        return ToolResult("error", done.seconds, outcome=f"exit {done.returncode}, no --json written",
                          details={"stderr": tail(done.stderr)})
    document = json.loads(out.read_text(encoding="utf-8"))
    found = list(document["polluters"])
    correct = (document["verdict"] == "order-dependent" and sorted(found) == sorted(project.polluters)
               and document["scope"] == project.kind.scope)
    run_dir = newest_run_dir(project.root)
    planted = PLANTED_LEAKS.get(project.kind.key)
    named = None if planted is None else any(leak["name"].startswith(planted) for leak in document["leaked_state"])
    return ToolResult(
        "ran", done.seconds, done.cpu, runs=int(document["runs"]), found=found, scope=document["scope"],
        correct=correct, named=named, outcome=f"{document['verdict']}: {document['summary']}",
        details={"exit": done.returncode, "own_seconds": document["seconds"], "steps": document["steps"],
                 "leaked_state": document["leaked_state"], "run_dir": str(run_dir) if run_dir else None,
                 "children": children_of(run_dir) if run_dir else []})


def newest_run_dir(root: Path) -> Path | None:
    runs = sorted((root / STATE_DIR / "runs").glob("*/"))
    return runs[-1] if runs else None


def children_of(run_dir: Path) -> list[dict[str, Any]]:
    """Each child of a wsdoctor run: its label, its tests and how long pytest said it took."""
    children = []
    for directory in sorted((run_dir / "children").glob("*/")):
        report = directory / "report.json"
        entry: dict[str, Any] = {"name": directory.name}
        if report.exists():
            data = json.loads(report.read_text(encoding="utf-8"))
            entry.update(duration=round(float(data.get("duration", 0.0)), 3),
                         tests=data.get("summary", {}).get("total"),
                         collected=data.get("summary", {}).get("collected"))
        children.append(entry)
    return children


def find_dtp(given: str | None, python: str) -> str | None:
    if given:
        return given if Path(given).exists() or shutil.which(given) else None
    for folder in (Path(sys.executable).parent, Path(python).parent):
        candidate = folder / DTP
        if candidate.exists():
            return str(candidate)
    return shutil.which(DTP)


DTP_RUN_LINES = ("ensuring test passes by itself", "ensuring test fails with test group", "running step ",
                 "double checking we found it")
DTP_FOUND = re.compile(r"^-> the polluting test is: (.+)$", re.MULTILINE)


def run_dtp(dtp: str | None, project: Project) -> ToolResult:
    if dtp is None:
        return ToolResult(NOT_INSTALLED, outcome=NOT_INSTALLED)
    done = run_timed((dtp, "--failing-test", project.victim, "--tests", "tests"), project.root)
    if done.returncode is None:
        return ToolResult("timeout", done.seconds, outcome=f"no answer in {COMMAND_TIMEOUT:.0f} s")
    lines = done.stdout.splitlines()
    runs = sum(line.startswith(DTP_RUN_LINES) for line in lines)
    match = DTP_FOUND.search(done.stdout)
    found = [match.group(1).strip()] if match else []
    return ToolResult(
        "ran", done.seconds, done.cpu, runs=runs, found=found, correct=found == list(project.polluters),
        outcome=dtp_outcome(done, found),
        details={"exit": done.returncode, "collect_runs": int("discovering all tests..." in lines),
                 "stdout": tail(done.stdout), "stderr": tail(done.stderr)})


def dtp_outcome(done: Finished, found: list[str]) -> str:
    """What detect-test-pollution said (or raised), in a line."""
    if found:
        return f"named {found[0]}"
    errors = [line for line in done.stderr.splitlines() if re.match(r"^\w+(Error|Exception)\b", line)]
    if errors:
        return f"crashed (exit {done.returncode}): {errors[-1]}"
    said = [line for line in done.stdout.splitlines() if line.startswith("->")]
    return f"exit {done.returncode}: {said[-1] if said else 'no answer'}"


@dataclass(slots=True)
class Row:
    kind: str
    style: str
    size: int
    victim: str
    planted: list[str]
    scope: str
    wsdoctor: ToolResult
    dtp: ToolResult
    load: float  # the 1-minute load average after both tools ran: other work on the machine

    @property
    def time_ratio(self) -> float | None:
        if self.wsdoctor.seconds is None or not self.dtp.seconds or self.dtp.status != "ran":
            return None
        return self.wsdoctor.seconds / self.dtp.seconds

    @property
    def cpu_ratio(self) -> float | None:
        """CPU time, wsdoctor's over detect-test-pollution's: what other work on the machine stretches
        least (wsdoctor's children run two at a time, so its wall time can be less than its CPU's)."""
        if not self.wsdoctor.cpu_seconds or not self.dtp.cpu_seconds or self.dtp.status != "ran":
            return None
        return self.wsdoctor.cpu_seconds / self.dtp.cpu_seconds


def bench_project(args: argparse.Namespace, project: Project, dtp: str | None) -> Row:
    warm_up(args.python, project.root)
    say(f"  {project.kind.key} ({project.style}) N={project.size}: wsdoctor bisect {project.victim}")
    out = project.root.parent / f"{project.kind.key}-{project.style}-{project.size}-bisect.json"
    mine = run_wsdoctor(args.python, project, out, args.budget)
    say(f"    wsdoctor: {mine.seconds or 0:.1f} s, {mine.runs} runs, correct={mine.correct}: {mine.outcome}")
    if dtp is not None:
        say(f"  {project.kind.key} ({project.style}) N={project.size}: {DTP}")
    theirs = run_dtp(dtp, project)
    if dtp is not None:
        say(f"    {DTP}: {theirs.seconds or 0:.1f} s, {theirs.runs} runs, correct={theirs.correct}: "
            f"{theirs.outcome}")
    return Row(project.kind.key, project.style, project.size, project.victim, list(project.polluters),
               project.kind.scope,
               mine, theirs, os.getloadavg()[0])


# --- the probes' overhead ------------------------------------------------------------------------------


def measure_overhead(python: str, project: Path, scratch: Path, rounds: int) -> dict[str, Any]:
    """Median seconds of a plain suite run, with the recorder plugin, and with its probes too.

    Each command gets an empty temp directory of its own, as every child of wsdoctor does: the
    probes watch the top of the temp directory, and the machine's (other sessions' files coming
    and going) would make them list it again and again, which no child of wsdoctor pays."""
    variants = {"plain": (), "plugin": ("-p", "wsdoctor.child.plugin"),
                "plugin+probe": ("-p", "wsdoctor.child.plugin", "--wsdoctor-probe")}
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    for round_number in range(rounds + 1):  # round 0 warms up
        for name, extra in variants.items():
            out = scratch / f"overhead-{name}-{round_number}"
            temp = scratch / f"overhead-temp-{name}-{round_number}"
            temp.mkdir()
            argv = (*extra, f"--wsdoctor-out={out}") if extra else ()
            done = run_timed((python, *PYTEST_PLAIN, *argv), project, temp)
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(temp, ignore_errors=True)
            if done.returncode not in (0, 1):  # 1: the planted victim fails
                raise SystemExit(f"bench_bisect: pytest {name} exited {done.returncode}:\n{tail(done.stdout)}"
                                 f"\n{tail(done.stderr)}")
            if round_number:
                seconds[name].append(done.seconds)
                cpu[name].append(done.cpu or 0.0)
                say(f"  overhead round {round_number}/{rounds} {name}: {done.seconds:.2f} s "
                    f"(CPU {done.cpu or 0.0:.2f} s)")
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpu.items()}
    return {"seconds": {k: [round(s, 3) for s in v] for k, v in seconds.items()},
            "cpu_seconds": {k: [round(s, 3) for s in v] for k, v in cpu.items()},
            "median": {k: round(v, 3) for k, v in medians.items()},
            "cpu_median": {k: round(v, 3) for k, v in cpu_medians.items()},
            "plugin_ratio": round(medians["plugin"] / medians["plain"], 3),
            "probe_ratio": round(medians["plugin+probe"] / medians["plain"], 3),
            "probe_vs_plugin": round(medians["plugin+probe"] / medians["plugin"], 3),
            "cpu_plugin_ratio": _ratio(cpu_medians["plugin"], cpu_medians["plain"]),
            "cpu_probe_ratio": _ratio(cpu_medians["plugin+probe"], cpu_medians["plain"]),
            # The probes' own cost: the plugin's is `wsdoctor run`'s overhead, benchmarked there.
            "probes_added": round((medians["plugin+probe"] - medians["plugin"]) / medians["plain"], 3),
            "cpu_probes_added": _ratio(cpu_medians["plugin+probe"] - cpu_medians["plugin"], cpu_medians["plain"]),
            # The same, as the median of each round's own values: a round's three runs are back to
            # back and share the machine's drift, which moves whole rounds on a shared VM.
            "paired_probes_added": round(statistics.median(
                (probe - plugin) / plain for plain, plugin, probe in _rounds(seconds)), 3),
            "paired_probe_ratio": round(statistics.median(
                probe / plain for plain, _, probe in _rounds(seconds)), 3)}


def _rounds(seconds: dict[str, list[float]]) -> list[tuple[float, float, float]]:
    return list(zip(seconds["plain"], seconds["plugin"], seconds["plugin+probe"], strict=True))


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


# --- reporting ----------------------------------------------------------------------------------------------


def yes_no(value: bool | None) -> str:
    return "n/a" if value is None else ("yes" if value else "**no**")


def wsdoctor_cells(result: ToolResult) -> list[str]:
    if result.status != "ran":
        return ["-", f"{result.seconds or 0:.1f}", f"**{result.status}**", "-"]
    return [str(result.runs), f"{result.seconds:.1f}", yes_no(result.correct), yes_no(result.named)]


def dtp_cells(result: ToolResult) -> list[str]:
    if result.status == NOT_INSTALLED:
        return [NOT_INSTALLED] * 3
    if result.status != "ran":
        return ["-", f"{result.seconds or 0:.1f}", f"**{result.status}**"]
    verdict = yes_no(result.correct) + ("" if result.correct else f" ({result.outcome})")
    return [f"{result.runs} (+1)", f"{result.seconds:.1f}", verdict]


def print_size_table(size: int, rows: Sequence[Row]) -> None:
    print(f"### N = {size:,} tests\n")
    print(f"| project kind | app imported | wsdoctor runs | wsdoctor s | wsdoctor correct? | leak named? "
          f"| {DTP} runs | {DTP} s | {DTP} correct? | wall ratio wsdoctor/dtp | CPU ratio | load |")
    print("|---|---|---:|---:|---|---|---:|---:|---|---:|---:|---:|")
    for row in rows:
        style = "in test bodies" if row.style == "body" else "at module level"
        cpu = f"{row.cpu_ratio:.2f}x" if row.cpu_ratio is not None else "n/a"
        cells = [row.kind, style, *wsdoctor_cells(row.wsdoctor), *dtp_cells(row.dtp), ratio_cell(row), cpu,
                 f"{row.load:.1f}"]
        print("| " + " | ".join(cells) + " |")
    print(f"\n{DTP} runs: pytest runs of the search; (+1): the collection run that discovers the tests. "
          "wsdoctor runs: its `runs` (its collection child not counted). Leak named: the planted state "
          "is in wsdoctor's leaked_state (n/a: the blind kind's state is invisible to the probes). A ratio "
          f"in parentheses: {DTP} did not find the polluter(s). CPU ratio: user + system time of each "
          "command and its children. Load: the 1-minute load average after the row was measured.\n")


def ratio_cell(row: Row) -> str:
    ratio = row.time_ratio
    if ratio is None:
        return "n/a"
    return f"{ratio:.2f}x" if row.dtp.correct else f"({ratio:.2f}x)"


def target_rows(rows: Sequence[Row], overhead: dict[str, Any] | None) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = []
    for row in rows:
        mine = row.wsdoctor
        label = f"{row.kind} ({'app imported in test bodies' if row.style == 'body' else row.style}), N={row.size}"
        if row.kind == "conjunction":
            limit = 3 * math.log2(row.size)
            ok = bool(mine.correct) and mine.runs is not None and mine.runs <= limit
            name = f"{label}: correct in <= 3*log2(N) = {limit:.1f} runs"
            targets.append({"target": name, "value": f"{mine.runs} runs, correct={mine.correct}", "pass": ok})
        elif row.size == TARGET_SIZE and row.kind == "blind":
            limit = math.log2(row.size) + 4
            ok = bool(mine.correct) and mine.runs is not None and mine.runs <= limit
            targets.append({"target": f"{label}: correct in <= log2(N) + 4 = {limit:.1f} runs",
                            "value": f"{mine.runs} runs, correct={mine.correct}", "pass": ok})
            targets.append(time_target(row, label, TARGET_BLIND_TIME_RATIO))
        elif row.size == TARGET_SIZE:
            ok = bool(mine.correct) and bool(mine.named) and mine.runs is not None and mine.runs <= TARGET_RUNS
            targets.append({"target": f"{label}: correct, its leak named, in <= {TARGET_RUNS} runs",
                            "value": f"{mine.runs} runs, correct={mine.correct}, named={mine.named}", "pass": ok})
            if row.style == "module":
                targets.append(time_target(row, label, TARGET_TIME_RATIO))
    if overhead is not None:
        added, cpu_added = overhead["paired_probes_added"], overhead["cpu_probes_added"]
        cpu_text = f"; CPU of medians +{cpu_added:.1%}" if cpu_added is not None else ""
        targets.append({"target": f"what the probes add to a plain run <= {TARGET_OVERHEAD - 1:.0%} of it "
                                  "(wall, median of rounds)",
                        "value": f"+{added:.1%}{cpu_text}", "pass": added <= TARGET_OVERHEAD - 1})
        ratio = overhead["paired_probe_ratio"]
        targets.append({"target": "for reference: plugin and probes together / plain pytest (median of rounds)",
                        "value": f"{ratio:.3f}x", "pass": None})
    return targets


def time_target(row: Row, label: str, limit: float) -> dict[str, Any]:
    name = f"{label}: wall <= {limit}x {DTP}'s"
    ratio = row.time_ratio
    if ratio is None or not row.dtp.correct:
        why = row.dtp.outcome if row.dtp.status == "ran" else row.dtp.status
        return {"target": name, "value": f"n/a: {DTP} {why}", "pass": None}
    return {"target": name, "value": f"{ratio:.2f}x", "pass": bool(row.wsdoctor.correct) and ratio <= limit}


def print_targets(targets: Sequence[dict[str, Any]]) -> None:
    print("### Targets\n")
    print("| target | value | result |")
    print("|---|---|---|")
    for target in targets:
        result = "n/a" if target["pass"] is None else ("PASS" if target["pass"] else "MISS")
        print(f"| {target['target']} | {target['value']} | {result} |")
    print()


def print_overhead(overhead: dict[str, Any], size: int, rounds: int) -> None:
    median, cpu = overhead["median"], overhead["cpu_median"]
    print(f"### Child plugin overhead (module-global project, N = {size:,}, median of {rounds})\n")
    print("| command | median wall s | ratio to plain | median CPU s | CPU ratio to plain |")
    print("|---|---:|---:|---:|---:|")
    print(f"| pytest {' '.join(PYTEST_PLAIN[2:])} | {median['plain']:.2f} | 1.00 | {cpu['plain']:.2f} | 1.00 |")
    print(f"| + -p wsdoctor.child.plugin --wsdoctor-out=DIR | {median['plugin']:.2f} | "
          f"{overhead['plugin_ratio']:.2f} | {cpu['plugin']:.2f} | {overhead['cpu_plugin_ratio'] or 0:.2f} |")
    print(f"| + --wsdoctor-probe | {median['plugin+probe']:.2f} | {overhead['probe_ratio']:.2f} | "
          f"{cpu['plugin+probe']:.2f} | {overhead['cpu_probe_ratio'] or 0:.2f} |")
    print(f"\nWhat the probes add (with probes - plugin without, over plain): "
          f"+{overhead['paired_probes_added']:.1%} wall as the median of rounds; of medians "
          f"+{overhead['probes_added']:.1%} wall, +{overhead['cpu_probes_added'] or 0:.1%} CPU\n")


def print_outcomes(rows: Sequence[Row]) -> None:
    print("### What each tool answered\n")
    for row in rows:
        print(f"- {row.kind} ({row.style}) N={row.size} (planted {', '.join(row.planted)}):")
        print(f"  - wsdoctor{cpu_text(row.wsdoctor)}: {row.wsdoctor.outcome}{slowest_child(row.wsdoctor)}")
        print(f"  - {DTP}{cpu_text(row.dtp)}: {row.dtp.outcome}")
    print()


def cpu_text(result: ToolResult) -> str:
    return f" (CPU {result.cpu_seconds:.1f} s)" if result.cpu_seconds is not None else ""


def slowest_child(result: ToolResult) -> str:
    """Where wsdoctor's time went: its longest child, as pytest timed it."""
    children = [c for c in result.details.get("children", []) if c.get("duration") is not None]
    if not children:
        return ""
    slowest = max(children, key=lambda child: child["duration"])
    return (f" [slowest of {len(children)} children: {slowest['name']}, {slowest['tests']} test(s), "
            f"{slowest['duration']:.1f} s]")


def machine_info(python: str, dtp: str | None) -> dict[str, Any]:
    probe = ("import json, platform, sys, pytest; print(json.dumps({'python': platform.python_version(), "
             "'pytest': pytest.__version__, 'executable': sys.executable}))")
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True)
    info: dict[str, Any] = json.loads(done.stdout)
    info.update(cpu_count=os.cpu_count(), platform=platform.platform(), dtp=dtp or NOT_INSTALLED,
                wsdoctor=wsdoctor_source(python))
    return info


def wsdoctor_source(python: str) -> dict[str, str]:
    """Which wsdoctor was measured: a digest of its sources (and git's view) tells versions apart."""
    probe = "import os, wsdoctor; print(os.path.dirname(wsdoctor.__file__))"
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True)
    folder = Path(done.stdout.strip())
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return {"path": str(folder), "sources_sha256": digest.hexdigest()[:16],
            "git_head": _git(folder, "rev-parse", "--short", "HEAD"),
            "git_changed": _git(folder, "status", "--porcelain", "--", ".").replace("\n", "; ")}


def _git(folder: Path, *argv: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(folder), *argv], capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- main ----------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="comma-separated test counts (each >= 100)")
    parser.add_argument("--kinds", default=",".join(KIND_KEYS),
                        help=f"which projects: {', '.join(KIND_KEYS)}")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the overhead measurement")
    parser.add_argument("--no-overhead", action="store_true", help="skip the probe overhead measurement")
    parser.add_argument("--styles", default=",".join(STYLES),
                        help="where the tests import the app: module (top of file), body (in every test)")
    parser.add_argument("--budget", help="wsdoctor bisect --budget (default: wsdoctor's own)")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter with pytest and wsdoctor (default: this one)")
    parser.add_argument("--dtp", help=f"the {DTP} executable (default: found next to python or on PATH)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the numbers here")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="generate the projects in DIR and keep them")
    args = parser.parse_args(argv)
    try:
        args.size_list = [int(size) for size in args.sizes.split(",") if size.strip()]
    except ValueError:
        parser.error("--sizes takes comma-separated integers")
    args.kind_list = [key.strip() for key in args.kinds.split(",") if key.strip()]
    args.style_list = [style.strip() for style in args.styles.split(",") if style.strip()]
    if not args.style_list or set(args.style_list) - set(STYLES):
        parser.error(f"--styles takes {', '.join(STYLES)}")
    if not args.size_list or min(args.size_list) < MIN_SIZE or args.rounds < 1:
        parser.error(f"need sizes >= {MIN_SIZE} and --rounds >= 1")
    unknown = set(args.kind_list) - set(KIND_KEYS)
    if unknown or not args.kind_list:
        parser.error(f"unknown --kinds {', '.join(sorted(unknown))}; choose from {', '.join(KIND_KEYS)}")
    return args


def benchmark(args: argparse.Namespace, base: Path) -> int:
    dtp = find_dtp(args.dtp, args.python)
    info = machine_info(args.python, dtp)
    say(f"bench_bisect: projects in {base}; {DTP}: {dtp or NOT_INSTALLED}")
    kinds = [kind for kind in KINDS if kind.key in args.kind_list]
    rows: list[Row] = []
    for size in args.size_list:
        for style in args.style_list:
            for kind in kinds:
                project = write_project(base / f"n{size}" / style / kind.key, kind, size, style)
                rows.append(bench_project(args, project, dtp))
                write_document(args, info, rows, None, [])  # what was measured survives a killed run
    overhead = None
    if not args.no_overhead:
        suite = base / f"n{TARGET_SIZE}" / "module" / KINDS[0].key
        if not suite.exists():
            write_project(suite, KINDS[0], TARGET_SIZE)
        overhead = measure_overhead(args.python, suite, base, args.rounds)
    info["wsdoctor_after"] = wsdoctor_source(args.python)
    report(args, info, rows, overhead)
    return 0


def report(args: argparse.Namespace, info: dict[str, Any], rows: Sequence[Row],
           overhead: dict[str, Any] | None) -> None:
    print(f"Machine: {info['cpu_count']} CPUs, {info['platform']}; Python {info['python']}, "
          f"pytest {info['pytest']}; wsdoctor bisect --workers {WORKERS}; {DTP}: {info['dtp']}")
    before, after = info["wsdoctor"], info["wsdoctor_after"]
    print(f"wsdoctor: {before['path']} at {before['git_head'] or '?'}, sources {before['sources_sha256']}"
          f"{' (uncommitted changes)' if before['git_changed'] else ''}")
    if before["sources_sha256"] != after["sources_sha256"]:
        print(f"WARNING: wsdoctor's sources changed while this ran (now {after['sources_sha256']}): "
              "the rows may have measured different versions")
    print()
    for size in args.size_list:
        print_size_table(size, [row for row in rows if row.size == size])
    if overhead is not None:
        print_overhead(overhead, TARGET_SIZE, args.rounds)
    targets = target_rows(rows, overhead)
    print_targets(targets)
    print_outcomes(rows)
    write_document(args, info, rows, overhead, targets)


def write_document(args: argparse.Namespace, info: dict[str, Any], rows: Sequence[Row],
                   overhead: dict[str, Any] | None, targets: Sequence[dict[str, Any]]) -> None:
    """--json: the rows so far (written after each), then everything."""
    if args.json is None:
        return
    document = {"machine": info, "sizes": args.size_list, "kinds": args.kind_list, "styles": args.style_list,
                "projects": [{**asdict(row), "time_ratio": row.time_ratio, "cpu_ratio": row.cpu_ratio}
                             for row in rows],
                "overhead": overhead, "targets": list(targets)}
    args.json.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return in_work_dir(args.keep, "bench_bisect", lambda work: benchmark(args, work))


if __name__ == "__main__":
    sys.exit(main())
