"""`wsdoctor demo` diagnoses its bundled suite, as `make demo` shows a new user."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_wsdoctor


def test_demo_finds_the_planted_pollution_and_exits_0(tmp_path: Path) -> None:
    done = run_wsdoctor(tmp_path, "demo", "--dir", str(tmp_path / "demo"), "--workers", "2")
    assert done.exit_code == 0, done.stderr
    [record] = (tmp_path / "demo" / ".wsdoctor" / "runs").glob("*/run.json")
    shown = run_wsdoctor(tmp_path / "demo", "run", "--last")
    findings = [line.split()[1] for line in shown.stdout.splitlines() if line.startswith("order-dependent ")]
    assert findings == ["tests/integration/test_server_integration.py::test_command_injection",
                        "tests/integration/test_server_integration.py::test_telemetry_broadcast",
                        "tests/unit/test_stats.py::test_connection_stats"]
    assert "'websockets' is not a package" in done.stdout
    assert record.exists()


def test_demo_refuses_a_directory_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    done = run_wsdoctor(tmp_path, "demo", "--dir", str(tmp_path))
    assert done.exit_code == 2
    assert "is not empty" in done.stderr
    assert (tmp_path / "keep.txt").read_text() == "mine"
