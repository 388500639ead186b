"""`wsdoctor bisect` on every victim the scenario suites list, proven with plain pytest."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    SCENARIOS,
    bisect,
    copy_scenario,
    expected_variants,
    load_expected,
    make_project,
    run_wsdoctor,
    victim_of,
)

pytestmark = pytest.mark.e2e  # every test here runs wsdoctor or pytest in child processes

CASES = [(path.parent.name, entry) for path in sorted(SCENARIOS.glob("*/expected.yaml"))
         for expected in expected_variants(path.parent.name) for entry in (expected.get("polluters") or [])]
# Known defects, each with why: strict xfails, so the case fails as soon as it is fixed and must move out.
KNOWN_DEFECTS: dict[str, str] = {}
# Victims that fail only sometimes after their polluters: their commands cannot be replayed once.
DETERMINISTIC = [(name, entry) for name, entry in CASES if "--repeat" not in entry.get("bisect_args", [])]


def case_id(case: tuple[str, dict[str, Any]]) -> str:
    return f"{case[0]}:{victim_of(case[1]).rsplit('::', 1)[-1]}"


def cases(selected: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    return [pytest.param(case, id=case_id(case), marks=[pytest.mark.xfail(reason=KNOWN_DEFECTS[case_id(case)],
                                                                          strict=True)]
                         if case_id(case) in KNOWN_DEFECTS else []) for case in selected]


def value_matches(pattern: str | None, value: str | None) -> bool:
    """``null`` in expected.yaml: absent on that side; otherwise a regex the value must match."""
    return value is None if pattern is None else value is not None and re.search(pattern, value) is not None


FILE_CHANGES = {"created": (False, True), "deleted": (True, False), "modified": (True, True)}  # before, after


def leak_matches(expected: dict[str, Any], found: list[dict[str, Any]]) -> bool:
    name = expected["name"].split("{", 1)[0]  # "{WS_PORT}": a port chosen in each process
    return any(leak["kind"] == expected["kind"] and leak["name"].startswith(name)
               and all(value_matches(expected[side], leak[side]) for side in ("before", "after") if side in expected)
               and ("change" not in expected or FILE_CHANGES[expected["change"]] == (
                   leak["before"] is not None, leak["after"] is not None))
               for leak in found)


def tree_of(project: Path) -> dict[str, str]:
    """Every file of the project but wsdoctor's records, with a digest of its content."""
    return {path.relative_to(project).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in project.rglob("*") if path.is_file() and ".wsdoctor" not in path.parts
            and "__pycache__" not in path.parts and ".pytest_cache" not in path.parts}


@pytest.mark.parametrize("case", cases(CASES))
def test_bisect_finds_the_listed_culprits_and_state(case: tuple[str, dict[str, Any]], bisected) -> None:  # type: ignore[no-untyped-def]
    name, entry = case
    result = bisected(name, entry).result
    setters = "state_setters" in entry
    assert result["verdict"] == ("brittle" if setters else "order-dependent"), result["steps"]
    found = sorted(result["state_setters"] if setters else result["polluters"])  # a set, in any order
    wanted = entry["state_setters"] if setters else entry["polluters"]
    right_answers = [sorted(wanted)] + [[alternative] for alternative in entry.get("alternatives", [])]
    assert found in right_answers, result["steps"]
    assert all(sorted(larger) != found for larger in entry.get("not_smallest", [])), result["steps"]
    assert result["scope"] == (None if setters else entry["scope"])
    for leak in entry["leaked_state"]:
        assert leak_matches(leak, result["leaked_state"]), result["leaked_state"]
    assert result["runs"] <= entry.get("max_runs", 12), result["steps"]


UNCHANGED_TREES = [(name, entry) for name, entry in CASES if entry.get("tree_unchanged")]


@pytest.mark.parametrize("case", cases(UNCHANGED_TREES))
def test_bisect_leaves_the_tree_as_it_found_it_and_says_the_same_twice(case: tuple[str, dict[str, Any]],
                                                                        scenario) -> None:  # type: ignore[no-untyped-def]
    name, entry = case
    project = scenario(name)
    before = tree_of(project)
    first = bisect(project, entry)
    assert tree_of(project) == before | {"bisect.json": tree_of(project)["bisect.json"]}
    second = bisect(project, entry)
    assert (second["verdict"], sorted(second["polluters"])) == (first["verdict"], sorted(first["polluters"]))
    done = run_wsdoctor(project, "run", "--workers", "2", *load_expected(name).get("run_args", []))
    assert done.exit_code in (0, 1), done.stderr
    assert set(tree_of(project)) == set(before) | {"bisect.json"}


AUDITED = [name for name in sorted(p.parent.name for p in SCENARIOS.glob("*/expected.yaml"))
           if "audit" in load_expected(name)]


@pytest.mark.parametrize("name", AUDITED)
def test_audit_lists_what_expected_yaml_says_with_who_left_it(name: str, scenario_run) -> None:  # type: ignore[no-untyped-def]
    done = scenario_run(name, audit=True).run
    wanted = load_expected(name)["audit"]
    audit = done.json()["audit"]
    for leak in wanted.get("present", []):
        assert leak_matches(leak, [c for c in audit if c["by"] == leak["by"]]), audit
    tests = {t["nodeid"] for t in done.json()["tests"]}
    for leak in wanted.get("not_by_a_test", []):
        assert not any(leak_matches(leak, [c]) and c["by"] in tests for c in audit), audit
    assert not any(c["by"] in wanted.get("absent_by", []) for c in audit), audit


@pytest.mark.parametrize("case", cases(DETERMINISTIC))
def test_bisect_commands_prove_it_with_plain_pytest(case: tuple[str, dict[str, Any]], bisected,  # type: ignore[no-untyped-def]
                                                    tmp_path: Path) -> None:
    name, entry = case
    result = bisected(name, entry).result
    outcomes = []
    for number, command in enumerate(result["reproduce"]):
        fresh = copy_scenario(name, tmp_path / f"fresh-{number}")  # a file the first leaves is not the second's
        shell_command = command.split("  #", 1)[0].replace("python -m pytest", f"{sys.executable} -m pytest", 1)
        done = subprocess.run(shell_command, shell=True, cwd=fresh, capture_output=True, text=True)
        outcomes.append(done.returncode)
    assert outcomes == [1, 0]  # the first command fails (pytest exit 1), the second passes


def test_the_same_bisect_twice_takes_the_same_path_within_its_budget(scenario) -> None:  # type: ignore[no-untyped-def]
    # Issue 12 §2: a victim that passes in the suite order and when moved last (a cleaner follows
    # its polluter) once took 18 runs, and the next time searched for 7 minutes. Two processes
    # with different hash seeds (set orders differ) must ask the same questions.
    project = scenario("late_polluter_with_cleaner")
    victim = "tests/test_b_defaults.py::test_default_websocket_url"
    documents = []
    for seed in ("1", "2"):
        done = run_wsdoctor(project, "bisect", victim, "--json", f"b{seed}.json", env={"PYTHONHASHSEED": seed})
        assert done.exit_code == 0, done.stderr
        assert re.search(r"budget: \d+ child runs and \d+ s", done.stderr), done.stderr
        documents.append(json.loads((project / f"b{seed}.json").read_text()))
    first, second = documents
    assert (first["steps"], first["polluters"], first["runs"]) == (second["steps"], second["polluters"], second["runs"])
    assert first["polluters"] == ["tests/test_c_staging.py::test_staging_url_from_environment"]


def test_unknown_victim_suggests_near_matches(scenario) -> None:  # type: ignore[no-untyped-def]
    project = scenario("singleton_manager_leak")
    done = run_wsdoctor(project, "bisect", "tests/test_stats.py::test_connection_stat")
    assert done.exit_code == 2
    assert "did you mean tests/test_stats.py::test_connection_stats" in done.stderr
    assert "Traceback" not in done.stderr


def test_victim_outside_the_given_paths_is_bad_input(scenario) -> None:  # type: ignore[no-untyped-def]
    project = scenario("singleton_manager_leak")
    done = run_wsdoctor(project, "bisect", "tests/test_stats.py::test_connection_stats",
                        "tests/test_connections.py")
    assert done.exit_code == 2
    assert "unknown test 'tests/test_stats.py::test_connection_stats' in tests/test_connections.py" in done.stderr


def test_order_file_with_unknown_tests_is_bad_input(scenario) -> None:  # type: ignore[no-untyped-def]
    project = scenario("singleton_manager_leak")
    (project / "order.txt").write_text("tests/test_gone.py::test_x\ntests/test_stats.py::test_connection_stats\n")
    done = run_wsdoctor(project, "bisect", "tests/test_stats.py::test_connection_stats",
                        "--order-file", "order.txt")
    assert done.exit_code == 2
    assert "names 1 test(s) that were not collected, first 'tests/test_gone.py::test_x'" in done.stderr


def test_order_file_gives_the_failing_order(scenario) -> None:  # type: ignore[no-untyped-def]
    project = scenario("late_polluter_with_cleaner")
    (project / "worker-gw1.txt").write_text("tests/test_c_staging.py::test_staging_url_from_environment\n"
                                            "tests/test_b_defaults.py::test_default_websocket_url\n")
    done = run_wsdoctor(project, "bisect", "tests/test_b_defaults.py::test_default_websocket_url",
                        "--order-file", "worker-gw1.txt", "--json", "out.json")
    result = json.loads((project / "out.json").read_text())
    assert (done.exit_code, result["polluters"]) == (0, ["tests/test_c_staging.py::test_staging_url_from_environment"])
    assert result["steps"][0].startswith("suspect") and result["runs"] <= 4


def test_resume_replays_the_journal_instead_of_rerunning(scenario) -> None:  # type: ignore[no-untyped-def]
    project = scenario("conjoined_polluters")
    victim = "tests/test_z_dashboard.py::test_default_dashboard_is_plain"
    first = run_wsdoctor(project, "bisect", victim, "--json", "first.json")
    children = {path.name: path.stat().st_mtime_ns for path in project.glob(".wsdoctor/runs/*/children/*")}
    again = run_wsdoctor(project, "bisect", victim, "--resume", "--json", "again.json")
    one, two = (json.loads((project / f).read_text()) for f in ("first.json", "again.json"))
    assert (first.exit_code, again.exit_code) == (0, 0)
    assert (one["polluters"], one["leaked_state"]) == (two["polluters"], two["leaked_state"])
    assert (one["runs"], two["runs"]) > (0, 0) and two["runs"] == 0  # the confirming run is replayed too
    assert "trial(s) from the journal of the earlier session" in again.stderr
    assert {path.name: path.stat().st_mtime_ns for path in project.glob(".wsdoctor/runs/*/children/*")} == children


def test_an_interrupted_bisect_writes_its_json_and_a_resumed_one_keeps_the_earlier_children(scenario) -> None:  # type: ignore[no-untyped-def]
    project = scenario("conjoined_polluters")
    waiting = project.parent / "waiting"  # beside the project: wsdoctor puts back what children leave in it
    (project / "tests" / "test_a_wait.py").write_text("import time\nfrom pathlib import Path\n\ndef test_waits():\n"
                                                      f"    Path({str(waiting)!r}).touch()\n    time.sleep(600)\n")
    victim = "tests/test_z_dashboard.py::test_default_dashboard_is_plain"
    command = [sys.executable, "-m", "wsdoctor", "bisect", victim, "--timeout", "0", "--json", "b.json"]
    proc = subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not waiting.exists():
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    document = json.loads((project / "b.json").read_text())
    assert (document["status"], document["victim"], document["verdict"], document["polluters"]) == (
        "interrupted", victim, None, [])
    earlier = sorted(path.name for path in project.glob(".wsdoctor/runs/*/children/*"))
    (project / "tests" / "test_a_wait.py").unlink()
    waiting.unlink()
    run_wsdoctor(project, "bisect", victim, "--resume", "--timeout", "0")
    later = sorted(path.name for path in project.glob(".wsdoctor/runs/*/children/*"))
    assert later[:len(earlier)] == earlier and len(later) > len(earlier)
    assert len({name[:4] for name in later}) == len(later)  # each child its own number


def test_resume_without_a_journal_is_bad_input(scenario) -> None:  # type: ignore[no-untyped-def]
    project = scenario("conjoined_polluters")
    done = run_wsdoctor(project, "bisect", "tests/test_z_dashboard.py::test_default_dashboard_is_plain",
                        "--resume")
    assert done.exit_code == 2 and "no interrupted bisect" in done.stderr


def test_run_bisect_explains_every_order_dependent_test(scenario_run) -> None:  # type: ignore[no-untyped-def]
    done = scenario_run("ws_sysmodules_poison").run  # run --bisect
    bisects = {b["victim"]: b for b in done.json()["bisects"]}
    assert done.exit_code == 1
    assert sorted(bisects) == ["tests/integration/test_server_integration.py::test_command_injection",
                               "tests/integration/test_server_integration.py::test_telemetry_broadcast"]
    assert {(b["scope"], tuple(b["polluters"])) for b in bisects.values()} == {
        ("file-import", ("tests/unit/test_socket_manager.py",))}


SHARED_CAUSES = [(name, entry) for name, entry in CASES if "run_bisect_max_runs_factor" in entry]


@pytest.mark.parametrize("case", cases(SHARED_CAUSES))
def test_run_bisect_bisects_one_cause_once_and_confirms_it_for_every_victim(
        case: tuple[str, dict[str, Any]], scenario_run) -> None:  # type: ignore[no-untyped-def]
    name, entry = case
    done = scenario_run(name).run  # run --bisect
    bisects = {b["victim"]: b for b in done.json()["bisects"]}
    assert done.exit_code == 1, done.stderr
    victims = entry["victims"]
    assert set(bisects) == set(victims)
    assert all(sorted(bisects[v]["polluters"]) == sorted(entry["polluters"]) for v in victims)
    [bisected] = [b for b in bisects.values() if b["explained_by"] is None]
    assert sorted(bisected["explains"]) == sorted(v for v in victims if v != bisected["victim"])
    assert all(bisects[v]["explained_by"] == bisected["victim"] for v in bisected["explains"])
    for leak in entry["leaked_state"]:
        assert all(leak_matches(leak, bisects[v]["leaked_state"]) for v in victims)
    total = sum(b["runs"] for b in bisects.values())
    assert total <= entry["run_bisect_max_runs_factor"] * (bisected["runs"] - 1), bisected["steps"]


def test_audit_lists_state_left_behind_and_nothing_on_a_clean_suite(scenario_run) -> None:  # type: ignore[no-untyped-def]
    leaky_done = scenario_run("singleton_manager_leak", audit=True).run
    clean_done = scenario_run("clean_control", audit=True).run
    audit = leaky_done.json()["audit"]
    first = "tests/test_connections.py::test_connect_accepts_socket"
    assert {(c["by"], c["name"]) for c in audit} >= {(first, "app.ws.manager.active_connections")}
    assert clean_done.json()["audit"] == []
    assert (leaky_done.exit_code, clean_done.exit_code) == (1, 0)


def test_a_victim_that_is_not_order_dependent_is_not_blamed_on_others(scenario) -> None:  # type: ignore[no-untyped-def]
    project = scenario("welcome_message_count")
    victim = "tests/test_websocket_manager.py::test_broadcast_to_stream"
    done = run_wsdoctor(project, "bisect", victim, "--json", "out.json")
    result = json.loads((project / "out.json").read_text())
    assert (done.exit_code, result["verdict"], result["polluters"]) == (1, "fails-alone", [])


def test_a_victim_nothing_breaks_is_not_reproduced_with_what_was_tried(scenario) -> None:  # type: ignore[no-untyped-def]
    project = scenario("clean_control")
    victim = "tests/test_stats.py::test_connection_stats"
    done = run_wsdoctor(project, "bisect", victim, "--json", "out.json", "--budget", "60")
    result = json.loads((project / "out.json").read_text())
    assert (done.exit_code, result["verdict"]) == (1, "not-reproduced")
    assert result["steps"][:2] == ["all other tests before it: victim passes",
                                   "all other tests, reversed, before it: victim passes"]


RANDOMLY_PYTHON = os.environ.get("WSDOCTOR_RANDOMLY_PYTHON", "")
# The victim runs first in collection order and passes; pytest-randomly puts the other file
# first for about half of its seeds, and then it fails.
FLAG_PROJECT = {
    "pytest.ini": "[pytest]\npythonpath = .\n",
    "app.py": "FLAGS = {'beta': False}\n",
    "tests/test_a.py": "import app\n\ndef test_beta_is_off():\n    assert app.FLAGS['beta'] is False\n\n"
                       "def test_flags_exist():\n    assert 'beta' in app.FLAGS\n",
    "tests/test_b.py": "import app\n\ndef test_enables_beta():\n    app.FLAGS['beta'] = True\n\n"
                       "def test_unrelated():\n    assert 1 + 1 == 2\n",
}


def pytest_exit_code(python: str, project: Path, *args: str) -> int:
    return subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=project,
                          capture_output=True, text=True).returncode


@pytest.mark.skipif(not RANDOMLY_PYTHON, reason="WSDOCTOR_RANDOMLY_PYTHON is unset: `make test` sets it "
                    "to a venv whose pytest has pytest-randomly")
def test_randomly_seed_reproduces_the_order_pytest_randomly_failed_in(tmp_path: Path) -> None:
    project = make_project(tmp_path, FLAG_PROJECT)
    assert pytest_exit_code(RANDOMLY_PYTHON, project, "-p", "no:randomly") == 0
    seed = next(s for s in range(1, 100) if pytest_exit_code(RANDOMLY_PYTHON, project, "-p", "randomly",
                                                             f"--randomly-seed={s}") == 1)

    done = run_wsdoctor(project, "bisect", "tests/test_a.py::test_beta_is_off", "--python", RANDOMLY_PYTHON,
                        "--randomly-seed", str(seed), "--json", "bisect.json")

    result = json.loads((project / "bisect.json").read_text())
    assert done.exit_code == 0, done.stdout + done.stderr
    assert (result["verdict"], result["polluters"], result["scope"]) == (
        "order-dependent", ["tests/test_b.py::test_enables_beta"], "test")
    assert result["steps"][0].startswith("suspect"), result["steps"]  # the seed's order failed: no search
    assert [(leak["kind"], leak["name"], leak["after"]) for leak in result["leaked_state"]] == [
        ("module-attr", "app.FLAGS", "dict len=1 {'beta': True}")]


def test_a_bisects_seconds_include_its_first_trials(tmp_path: Path) -> None:
    # The suite order up to the victim and the victim alone run while collecting, before the
    # strategy starts: their time is the bisect's too ("4 child run(s) in 4.9 s" after 129 s).
    project = make_project(tmp_path, {**FLAG_PROJECT, "tests/test_0_slow.py": "import time\n\n"
                                      "def test_slow_start():\n    time.sleep(2)\n",
                                      "tests/test_c.py": "import app\n\ndef test_beta_is_still_off():\n"
                                                         "    assert app.FLAGS['beta'] is False\n"})
    done = run_wsdoctor(project, "bisect", "tests/test_c.py::test_beta_is_still_off", "--json", "bisect.json")
    result = json.loads((project / "bisect.json").read_text())
    assert (done.exit_code, result["polluters"]) == (0, ["tests/test_b.py::test_enables_beta"]), done.stderr
    children = [child for line in next(project.glob(".wsdoctor/runs/*/journal.jsonl")).read_text().splitlines()
                for child in json.loads(line)["result"]["children"]]
    span = max(c["ended"] for c in children) - min(c["began"] for c in children)
    assert result["seconds"] >= span > 2, (result["seconds"], span)  # the slow test ran in the suite order only


def blind_project(tests_per_file: int, files: int) -> dict[str, str]:
    """A switch kept in a closure (no probe sees it), flipped by one test of the first file and read by
    the victim in the last; one slow test just before the victim keeps the suite order running."""
    project = {"pytest.ini": "[pytest]\npythonpath = .\n",
               "app.py": "def _switch():\n    on = [False]\n\n    def flip():\n        on[0] = True\n\n"
                         "    return flip, lambda: on[0]\n\n\nflip, is_on = _switch()\n"}
    for number in range(files):
        tests = "".join(f"def test_{number}_{i}():\n    assert str({i}) == '{i}'\n\n" for i in range(tests_per_file))
        project[f"tests/test_{number:02d}.py"] = "import app\n\n" + tests
    project["tests/test_00.py"] += "def test_flips_the_switch():\n    app.flip()\n"
    project["tests/test_zz.py"] = ("import time\n\nimport app\n\ndef test_slow():\n    time.sleep(2)\n\n"
                                   "def test_switch_is_off():\n    assert not app.is_on()\n")
    return project


def test_without_evidence_the_first_halving_question_runs_beside_the_suite_order(tmp_path: Path) -> None:
    # The probes see nothing here: the search halves, and its first question (the first half of
    # the tests before the victim) is asked while the suite order still runs, not after it.
    project = make_project(tmp_path, blind_project(tests_per_file=20, files=11))
    victim = "tests/test_zz.py::test_switch_is_off"
    done = run_wsdoctor(project, "bisect", victim, "--workers", "2", "--json", "bisect.json")

    result = json.loads((project / "bisect.json").read_text())
    assert (done.exit_code, result["polluters"]) == (0, ["tests/test_00.py::test_flips_the_switch"]), done.stderr
    children = {child["artifacts"].rsplit("/", 1)[-1][5:]: child
                for line in next(project.glob(".wsdoctor/runs/*/journal.jsonl")).read_text().splitlines()
                for child in json.loads(line)["result"]["children"]}
    before_victim = 20 * 11 + 1 + 1  # test_slow too
    first_half = children[f"bisect-{before_victim // 2}-test-s----victim"]
    assert first_half["began"] < children["bisect--the-failing-order"]["ended"] - 1, children.keys()
    # asked once, and counted once: halving 222 tests takes 8 questions, plus the last test alone
    # at most, plus the two confirming runs
    assert result["runs"] <= 8 + 1 + 2, result["steps"]
    assert sum(label.startswith(f"bisect-{before_victim // 2}-") for label in children) == 1


def test_a_refused_bisect_leaves_no_record(scenario) -> None:  # type: ignore[no-untyped-def]
    project = scenario("singleton_manager_leak")
    done = run_wsdoctor(project, "bisect", "tests/test_stats.py::test_connection_stat")
    assert done.exit_code == 2
    assert list(project.glob(".wsdoctor/runs/*")) == []


def test_a_bisect_is_a_record_of_its_own_that_report_reads(scenario) -> None:  # type: ignore[no-untyped-def]
    project = scenario("singleton_manager_leak")
    victim = "tests/test_stats.py::test_connection_stats"
    assert run_wsdoctor(project, "run", "--workers", "2").exit_code == 1
    bisected = run_wsdoctor(project, "bisect", victim, "--workers", "2", "--json", "bisect.json")
    polluters = json.loads((project / "bisect.json").read_text())["polluters"]
    assert bisected.exit_code == 0 and polluters

    last = run_wsdoctor(project, "run", "--last")  # the run, not the bisect made after it
    assert last.exit_code == 1 and victim in last.stdout and "order-dependent" in last.stdout

    [bisect_dir] = [path.parent for path in project.glob(".wsdoctor/runs/*/bisect.json")]
    for args in ((), (bisect_dir.name,)):  # the newest record, then the bisect by its id
        reported = run_wsdoctor(project, "report", *args, "--format", "json", "--out", "report.json")
        assert reported.exit_code == 0, reported.stderr
        insights = json.loads((project / "report.json").read_text())["insights"]
        evidence = [e for insight in insights for e in insight["evidence"] if e["test"] == victim]
        assert [(e["verdict"], e["polluters"], e["scope"]) for e in evidence][:1] == [
            ("order-dependent", polluters, "test")]
        assert any(leak["name"] == "app.ws.manager.active_connections" for leak in evidence[0]["leaked_state"])
