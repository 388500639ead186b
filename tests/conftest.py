"""Shared helpers: copy a scenario suite to tmp_path and run the real wsdoctor on it.

Two layers: tests marked ``e2e`` start child processes (wsdoctor, pytest, another interpreter);
the others are the fast layer (`make fast`, `pytest -m "not e2e"`), and a fast test that starts
a process fails at once, so the layers cannot drift apart.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
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
