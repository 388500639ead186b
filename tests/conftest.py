"""Shared helpers: copy a scenario suite to tmp_path and run the real wsdoctor on it.

Two layers: tests marked ``e2e`` start child processes (wsdoctor, pytest, another interpreter);
the others are the fast layer (`make fast`, `pytest -m "not e2e"`), and a fast test that starts
a process fails at once, so the layers cannot drift apart.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

SCENARIOS = Path(__file__).parent / "scenarios"
collect_ignore = ["scenarios"]


def make_project(root: Path, files: dict[str, str]) -> Path:
    """A small pytest project written from {relative path: text}."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@dataclass
class Completed:
    exit_code: int
    stdout: str
    stderr: str
    cwd: Path

    def json(self, name: str = "result.json") -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.cwd / name).read_text())
        return data

    def verdicts(self, name: str = "result.json") -> dict[str, str]:
        return {t["nodeid"]: t["verdict"] for t in self.json(name)["tests"]}


def copy_scenario(name: str, destination: Path) -> Path:
    target = destination / name
    shutil.copytree(SCENARIOS / name, target,
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".wsdoctor"))
    return target


def load_expected(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((SCENARIOS / name / "expected.yaml").read_text())
    return data


def expected_variants(name: str) -> list[dict[str, Any]]:
    """The suite's expected document, then each of its variants (more runs of the same suite)."""
    expected = load_expected(name)
    return [expected, *(expected.get("variants") or [])]


def scenario_env(expected: dict[str, Any]) -> dict[str, str]:
    """A scenario's `env`, with {FREE_PORT} a port free on 127.0.0.1 now (fixed within the run)."""
    env = {}
    for name, value in (expected.get("env") or {}).items():
        if "{FREE_PORT}" in str(value):
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                value = str(value).replace("{FREE_PORT}", str(probe.getsockname()[1]))
        env[name] = str(value)
    return env


def run_wsdoctor(cwd: Path, *args: str, timeout: float = 300, env: dict[str, str] | None = None) -> Completed:
    """`python -m wsdoctor ARGS` in cwd: the real program, as a user runs it (outside GitHub
    Actions, whatever runs these tests, unless ``env`` says otherwise)."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GITHUB_"))},
           "COLUMNS": "200", **(env or {})}
    done = subprocess.run([sys.executable, "-m", "wsdoctor", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    return Completed(done.returncode, done.stdout, done.stderr, cwd)


@pytest.fixture(autouse=True)
def _fast_tests_start_no_process(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("e2e") is not None:
        return

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"{request.node.nodeid} starts a child process: mark it @pytest.mark.e2e")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    monkeypatch.setattr(os, "fork", refuse)


@pytest.fixture
def wsdoctor_in_process(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """The command line in this process: for the fast layer, where no child may start."""
    from wsdoctor.cli import run_command_line

    def invoke(cwd: Path, *args: str) -> Completed:
        monkeypatch.chdir(cwd)
        monkeypatch.setenv("COLUMNS", "200")
        capsys.readouterr()
        code = run_command_line(list(args))
        out, err = capsys.readouterr()
        return Completed(int(code), out, err, cwd)

    return invoke


@pytest.fixture
def scenario(tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(name: str) -> Path:
        return copy_scenario(name, tmp_path)

    return make


def _shared_root(factory: pytest.TempPathFactory) -> Path:
    """One directory for the whole session: under xdist, the workers' base directories' parent."""
    base = factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared"
    root.mkdir(exist_ok=True)
    return root


def _made_once(root: Path, key: str, make: Callable[[Path], dict[str, Any]]) -> dict[str, Any]:
    """``make(directory)`` once for the whole session, whichever xdist worker asks first; the others
    wait for it (a lock file) and read what it wrote."""
    directory = root / key
    with (root / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        made = directory / "made.json"
        if not made.exists():
            shutil.rmtree(directory, ignore_errors=True)  # what an attempt that failed left
            directory.mkdir()
            made.write_text(json.dumps(make(directory)))
        data: dict[str, Any] = json.loads(made.read_text())
        return data


@dataclass(frozen=True)
class ScenarioRun:
    """A scenario variant's `wsdoctor run --bisect --json result.json` (or `run --audit`, or `run`
    alone), then its JSON report in report.json."""

    project: Path
    run: Completed
    report: Completed


def _completed(data: dict[str, Any]) -> Completed:
    return Completed(data["exit_code"], data["stdout"], data["stderr"], Path(data["cwd"]))


def _as_data(done: Completed) -> dict[str, Any]:
    return {"exit_code": done.exit_code, "stdout": done.stdout, "stderr": done.stderr, "cwd": str(done.cwd)}


SCENARIO_NAMES = {path.parent.name for path in SCENARIOS.glob("*/expected.yaml")}


def scenario_of(nodeid: str) -> str | None:
    """The scenario a test is parametrized with: its id starts with the scenario's name
    (``[in_test_imports-0]``, ``[in_test_imports:test_default_settings]``)."""
    found = re.match(r"[^\[]*\[(\w+)", nodeid)
    return found.group(1) if found is not None and found.group(1) in SCENARIO_NAMES else None


@pytest.hookimpl(optionalhook=True)  # an xdist hook: without xdist, pytest must not call it unknown
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`make test`'s xdist workers take the tests of one scenario together: the first makes its
    shared runs and bisects (scenario_run, bisected), the next read them, and no worker waits on the
    lock while the other makes what it needs (with xdist's `load`, a scenario's verdicts and its
    playbooks ran side by side, one waiting: 100 s of a worker's 550). The largest groups go first;
    other tests go one by one, in their order. Only for the default distribution (`load`)."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByScenario(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scenario_of(nodeid) or nodeid

    return ByScenario(config, log)


@pytest.fixture(scope="session")
def scenario_run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Once per scenario variant for the whole session: the tests of verdicts, playbooks and the audit
    read the same runs (readers only: a test that changes the project copies it first)."""
    root = _shared_root(tmp_path_factory)

    def make(name: str, variant: int, audit: bool, prestart: bool, bisect: bool, directory: Path) -> dict[str, Any]:
        expected = expected_variants(name)[variant]
        project = copy_scenario(name, directory)
        env = {**scenario_env(expected), "WSDOCTOR_PRESTART": "1" if prestart else "0"}
        plan = ["--audit"] if audit else [*(["--bisect"] if bisect else []), *expected.get("run_args", [])]
        ran = run_wsdoctor(project, "run", "--json", "result.json", "--workers", "2", *plan, env=env)  # `--` last
        reported = run_wsdoctor(project, "report", "--format", "json", "--out", "report.json", env=env)
        return {"project": str(project), "run": _as_data(ran), "report": _as_data(reported)}

    def get(name: str, variant: int = 0, *, audit: bool = False, prestart: bool = True,
            bisect: bool = True) -> ScenarioRun:
        """``prestart``: False, every child started the old way (wsdoctor.execution.prestart);
        ``bisect``: False, the run stops at its verdicts (`run` without --bisect)."""
        kind = "audit" if audit else "run" if bisect else "verdicts"
        key = f"{kind}-{name}-{variant}{'' if prestart else '-spawned'}"
        data = _made_once(root, key, lambda directory: make(name, variant, audit, prestart, bisect, directory))
        return ScenarioRun(Path(data["project"]), _completed(data["run"]), _completed(data["report"]))

    return get


def victim_of(entry: dict[str, Any]) -> str:
    """The victim to bisect: an entry names one, or several that share one cause."""
    victim: str = entry.get("victim") or entry["victims"][0]
    return victim


def worker_order_file(project: Path, victim: str) -> str:
    """{WORKER_ORDER_FILE}: the order of the xdist worker the victim failed on, from a run."""
    assert run_wsdoctor(project, "run", "--workers", "2").exit_code in (0, 1)
    record = json.loads(next(project.glob(".wsdoctor/runs/*/run.json")).read_text())
    [order] = [run["plan"]["test_ids"] for run in record["plan_results"]
               if re.fullmatch(r"suite gw\d+", run["plan"]["label"])
               and any(r["nodeid"] == victim and r["outcome"] == "failed" for r in run["results"])]
    (project / "worker-order.txt").write_text("".join(f"{nodeid}\n" for nodeid in order))
    return "worker-order.txt"


def bisect(project: Path, entry: dict[str, Any]) -> dict[str, Any]:
    victim = victim_of(entry)
    args = [arg.replace("{WORKER_ORDER_FILE}", worker_order_file(project, victim))
            if arg == "{WORKER_ORDER_FILE}" else arg for arg in entry.get("bisect_args", [])]
    done = run_wsdoctor(project, "bisect", victim, "--json", "bisect.json", "--workers", "2", *args)
    assert done.exit_code == 0, done.stdout + done.stderr
    result: dict[str, Any] = json.loads((project / "bisect.json").read_text())
    return result


@dataclass(frozen=True)
class Bisected:
    project: Path
    result: dict[str, Any]


@pytest.fixture(scope="session")
def bisected(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Once per expected.yaml polluter entry for the whole session: `wsdoctor bisect` of its victim in
    a copy of its scenario. The result is kept apart from the project (made.json), so test_fix, the
    one test that changes the project (its patch goes there), cannot change what the others read."""
    root = _shared_root(tmp_path_factory)

    def make(name: str, entry: dict[str, Any], directory: Path) -> dict[str, Any]:
        project = copy_scenario(name, directory)
        return {"project": str(project), "result": bisect(project, entry)}

    def get(name: str, entry: dict[str, Any]) -> Bisected:
        digest = hashlib.sha256(json.dumps([victim_of(entry), entry.get("bisect_args", [])]).encode()).hexdigest()
        data = _made_once(root, f"bisect-{name}-{digest[:12]}", lambda directory: make(name, entry, directory))
        return Bisected(Path(data["project"]), data["result"])

    return get
