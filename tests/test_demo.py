"""`wsdoctor demo` diagnoses its bundled suite, as `make demo` shows a new user."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_wsdoctor

pytestmark = pytest.mark.e2e  # wsdoctor runs as a subprocess


def test_demo_finds_the_planted_pollution_and_exits_0(tmp_path: Path) -> None:
    done = run_wsdoctor(tmp_path, "demo", "--dir", str(tmp_path / "demo"), "--workers", "2")
    assert done.exit_code == 0, done.stderr
    [record_path] = (tmp_path / "demo" / ".wsdoctor" / "runs").glob("*/run.json")
    record = json.loads(record_path.read_text())
    findings = sorted(v["nodeid"] for v in record["verdicts"] if v["verdict"] != "pass")
    assert findings == ["tests/integration/test_server_integration.py::test_command_injection",
                        "tests/integration/test_server_integration.py::test_telemetry_broadcast",
                        "tests/unit/test_stats.py::test_connection_stats"]
    assert {(b["scope"], tuple(b["polluters"])) for b in record["bisects"][:2]} == {
        ("file-import", ("tests/unit/test_socket_manager.py",))}
    assert "'websockets' is not a package" in done.stdout
    assert "insight report" in done.stdout and "## Phenomenon" not in done.stdout  # rendered, not raw


def test_demo_refuses_a_directory_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    done = run_wsdoctor(tmp_path, "demo", "--dir", str(tmp_path))
    assert done.exit_code == 2
    assert "is not empty" in done.stderr
    assert (tmp_path / "keep.txt").read_text() == "mine"
