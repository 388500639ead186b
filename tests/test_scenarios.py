"""Every scenario suite gets exactly the verdicts its expected.yaml lists, from a real run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from tests.conftest import SCENARIOS, ScenarioRun, expected_variants, load_expected, run_wsdoctor, scenario_of

# Every suite, and every variant of it (more runs of the same suite with other arguments).
VERDICT_SCENARIOS = [(p.parent.name, n) for p in sorted(SCENARIOS.glob("*/expected.yaml"))
                     for n in range(len(expected_variants(p.parent.name)))]


def version_matches(spec: str, version: tuple[int, int]) -> bool:
    return SpecifierSet(spec).contains(".".join(map(str, version)))


NOT_FINDINGS = {"pass", "skip", "xfail"}


def expected_verdict(value: str | list[str] | dict[str, str]) -> set[str]:
    """The right answers: one verdict, a list of equally right ones, or the one a version guard picks."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return set(value)
    version = sys.version_info[:2]
    matches = [verdict for spec, verdict in value.items() if version_matches(spec, version)]
    assert len(matches) == 1, f"version guards {value} must pick one verdict for {version}"
    return {matches[0]}


def skip_without_required_packages(expected: dict[str, object]) -> None:
    """`requires_packages`: the suite needs these in its interpreter (wsdoctor's, here)."""
    for requirement in expected.get("requires_packages") or ():  # type: ignore[attr-defined]
        wanted = Requirement(str(requirement))
        try:
            installed = metadata.version(wanted.name)
        except metadata.PackageNotFoundError:
            pytest.skip(f"needs {requirement}: not installed")
        if not wanted.specifier.contains(installed):
            pytest.skip(f"needs {requirement}: {installed} is installed")


# Suites whose verdicts hang on what a child started ahead does differently (pytest imported before
# its command line: sys.modules and imports) or on how a child ends (a crash, a thread left running):
# run once more with every child started the old way (wsdoctor.execution.prestart), for the same
# verdicts. Hangs, xdist workers and plain state leaks come after the configuration, the same either
# way, and each of their runs costs the suite seconds. The verdicts are settled before `--bisect`
# bisects, so these runs stop there (in_test_imports' eight bisects were 30 s of CPU no assertion read).
SPAWNED_SCENARIOS = [(name, 0) for name in ("crash_in_test", "never_ending_thread", "ws_sysmodules_poison",
                                            "in_test_imports")]


@pytest.mark.e2e
@pytest.mark.parametrize(("name", "variant"), VERDICT_SCENARIOS, ids=lambda v: str(v))
def test_scenario_verdicts(name: str, variant: int, scenario_run) -> None:  # type: ignore[no-untyped-def]
    check_verdicts(name, variant, scenario_run(name, variant))


@pytest.mark.e2e
@pytest.mark.parametrize(("name", "variant"), SPAWNED_SCENARIOS, ids=lambda v: str(v))
def test_scenario_verdicts_with_children_started_the_old_way(name: str, variant: int,  # type: ignore[no-untyped-def]
                                                             scenario_run) -> None:
    check_verdicts(name, variant, scenario_run(name, variant, prestart=False, bisect=False))


def check_verdicts(name: str, variant: int, shared: ScenarioRun) -> None:
    expected = expected_variants(name)[variant]
    skip_without_required_packages(expected)
    project, done = shared.project, shared.run
    wanted = {nodeid: expected_verdict(v) for nodeid, v in (expected.get("verdicts") or {}).items()}
    found = done.verdicts()
    assert set(wanted) <= set(found), done.stdout + done.stderr
    wrong = {nodeid: verdict for nodeid, verdict in found.items() if verdict not in wanted.get(nodeid, {"pass"})}
    assert wrong == {}, done.stdout + done.stderr
    findings = [verdict for verdict in found.values() if verdict not in NOT_FINDINGS]
    assert done.exit_code == expected.get("exit_code", 1 if findings else 0), done.stderr
    document = done.json()
    tests = {t["nodeid"]: t for t in document["tests"]}
    for nodeid in (n for n, verdict in found.items() if verdict == "not-run"):
        for text in (expected.get("not_run") or {}).values():
            assert text in tests[nodeid]["reason"], tests[nodeid]
    for where, frame in (expected.get("blocked_in") or {}).items():
        assert f"blocked in {frame['function']} (" in tests[where]["detail"], tests[where]
        assert f"/{frame['file']}:" in tests[where]["detail"], tests[where]
    session = expected.get("session") or {}
    assert document["session"]["exits"] is session.get("exits", True), document["session"]
    assert set(session.get("threads_alive", [])) <= set(document["session"]["threads_alive"])
    assert {session.get("started_by")} - {None} <= set(document["session"]["started_by"])
    if "worker_orders" in expected:  # xdist in the suite's addopts: it ran as the project runs it
        record = json.loads(next(project.glob(".wsdoctor/runs/*/run.json")).read_text())
        orders = [run["plan"]["test_ids"] for run in record["plan_results"]
                  if re.fullmatch(r"suite gw\d+", run["plan"]["label"])]
        assert sorted(orders) == sorted(expected["worker_orders"]), done.stderr
        assert "xdist: the suite order (and a shuffled one, after it) ran as the project runs it, on 2 worker(s)" \
            in " ".join(done.stderr.split())


def test_version_guard_parsing() -> None:
    assert version_matches("<3.12", (3, 11))
    assert not version_matches("<3.12", (3, 12))
    assert version_matches(">=3.12", (3, 13))
    assert expected_verdict({"<3.12": "pass", ">=3.12": "fail"}) <= {"pass", "fail"}
    assert expected_verdict(["not-run", "pass"]) == {"not-run", "pass"}


def test_the_tests_of_a_scenario_go_to_one_xdist_worker_and_no_other_test_joins_them() -> None:
    """The ids `make test`'s scheduler groups by (tests/conftest.py): a scenario's verdicts, playbooks,
    bisects and fixes, whatever their parameters' ids look like; other parameters stay alone."""
    from tests import test_bisect, test_fix

    grouped = {f"tests/test_scenarios.py::test_scenario_verdicts[{name}-{variant}]": name
               for name, variant in VERDICT_SCENARIOS}
    grouped |= {f"tests/test_bisect.py::test_bisect_finds_the_listed_culprits_and_state[{test_bisect.case_id(c)}]":
                c[0] for c in test_bisect.CASES}
    grouped |= {f"tests/test_fix.py::test_fix_proves_a_patch_and_the_failing_order_then_passes[{test_fix.case_id(c)}]":
                c[0] for c in test_fix.CASES}
    grouped |= {f"tests/test_bisect.py::test_audit_lists_what_expected_yaml_says_with_who_left_it[{name}]": name
                for name in test_bisect.AUDITED}
    assert {nodeid: scenario_of(nodeid) for nodeid in grouped} == grouped
    assert len(set(grouped.values())) == len(list(SCENARIOS.glob("*/expected.yaml")))
    alone = ["tests/test_fix.py::test_the_import_time_stub_is_fixed_in_a_fixture_on_other_pythons[/usr/bin/python3.12]",
             "tests/test_ci.py::test_ci_bad_input_is_one_line_exit_2_and_runs_nothing[args0---shard '3/2']",
             "tests/test_bisect.py::test_unknown_victim_suggests_near_matches", "tests/test_x.py::test_y[clean]"]
    assert [scenario_of(nodeid) for nodeid in alone] == [None] * len(alone)


@pytest.mark.e2e
def test_import_time_pollution_is_an_order_dependent_collection_error(scenario) -> None:  # type: ignore[no-untyped-def]
    """Collected after the unit file that mocks sys.modules, the integration file cannot import."""
    project: Path = scenario("ws_sysmodules_poison")
    done = run_wsdoctor(project, "run", "tests/unit", "tests/integration", "--json", "out.json")
    victim_file = "tests/integration/test_server_integration.py"
    document = done.json("out.json")
    by_id = {t["nodeid"]: t for t in document["tests"]}
    assert by_id[victim_file]["verdict"] == "order-dependent"
    assert "'websockets' is not a package" in by_id[victim_file]["detail"]
    failing_collection = by_id[victim_file]["reproduce"][0]
    assert failing_collection.endswith("--collect-only -q tests/unit tests/integration  # fails")
    assert by_id[f"{victim_file}::test_command_injection"]["verdict"] == "order-dependent"
    assert by_id[f"{victim_file}::test_command_injection"]["runs"][0]["outcome"] == "error"


def peak_rss_of(proc: subprocess.Popen[str]) -> int:
    """The high-water mark of a running process's resident memory, in bytes, watched until it exits."""
    peak = 0
    while proc.poll() is None:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
        except OSError:
            break
        peak = max([peak] + [int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM:")])
        time.sleep(0.02)
    return peak


HUGE = 60_000_000  # characters a test prints: today's 200 MB case, smaller, with the same shape
MAX_DISK = 6_000_000  # bytes of .wsdoctor for the whole run (5 children), whatever HUGE is
MAX_RSS = 200_000_000  # wsdoctor's own peak memory (its children are pytest, which holds the output)


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak memory from /proc")
def test_what_is_kept_of_a_huge_output_is_bounded_and_keeps_both_ends(scenario) -> None:  # type: ignore[no-untyped-def]
    expected = load_expected("huge_output")["output"]
    project: Path = scenario("huge_output")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    proc = subprocess.Popen([sys.executable, "-m", "wsdoctor", "run", "--workers", "2", "--json", "result.json"],
                            cwd=project, env={**env, "FRAME_DUMP_BYTES": str(HUGE)}, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = peak_rss_of(proc)
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 1, stderr
    assert json.loads((project / "result.json").read_text())["summary"]["fail"] == 1
    disk = sum(path.stat().st_size for path in (project / ".wsdoctor").rglob("*") if path.is_file())
    print(f"disk {disk} bytes, wsdoctor peak RSS {peak} bytes")
    assert disk < MAX_DISK and 0 < peak < MAX_RSS, (disk, peak)
    kept = {}
    for events in (project / ".wsdoctor").glob("runs/*/children/*/events.jsonl"):
        for line in events.read_text().splitlines():
            event = json.loads(line)
            if event["event"] == "test" and event["test"]["nodeid"] in expected["tests"]:
                stages = [event["test"][when] for when in ("setup", "call", "teardown") if when in event["test"]]
                kept[event["test"]["nodeid"]] = "".join(s.get("stdout", "") + s.get("stderr", "") for s in stages)
    assert sorted(kept) == sorted(expected["tests"])
    for text in kept.values():
        assert expected["head_marker"] in text and expected["tail_marker"] in text
        assert re.search(r"\[\.\.\. wsdoctor dropped \d{8} characters here \.\.\.\]", text)
