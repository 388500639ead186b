"""`wsdoctor fix` on the scenario suites, for real: a bisect, then fix; the patch it prints is applied
to the copy with `git apply`, and plain pytest runs the failing order it was proven against, which
then passes. Every scenario suite with an order-dependent victim gets a proven patch or the reason
why none can be made."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SCENARIOS, expected_variants, make_project, run_wsdoctor, victim_of
from tests.test_bisect import tree_of

pytestmark = pytest.mark.e2e


def _suites() -> list[tuple[str, dict[str, Any]]]:
    """The first victim of every scenario suite with an order-dependent one, and more of in_test_imports
    (each another kind of state). Brittle victims, and a bisect that proves no polluter, have their
    reasons in test_fix_reasons.py: no child runs for them."""
    cases = []
    for path in sorted(SCENARIOS.glob("*/expected.yaml")):
        if path.parent.name in WITHOUT_A_POLLUTER:
            continue
        entries = [entry for expected in expected_variants(path.parent.name)
                   for entry in expected.get("polluters") or []]
        if entries:
            cases.append((path.parent.name, entries[0]))
        if path.parent.name == "in_test_imports":
            cases += [(path.parent.name, entry) for entry in entries if "test_presence.py" in str(entry["polluters"])
                      or "test_settings.py" in str(entry["polluters"])]
    return cases


WITHOUT_A_POLLUTER = {"brittle_setter_after", "brittle_state_setter",
                      "coroutine_never_awaited_late"}  # its bisect's known defect (test_bisect): not-reproduced
CASES = _suites()
# A stated reason instead of a patch: the words it must say.
NO_PATCH = {
    "import_suspect_groups": "changes app.registry.HANDLERS at module level",
    # The fixture's teardown stops the server, and the victim, binding the same port without
    # SO_REUSEADDR, still finds it in use (TIME_WAIT): the candidate is dropped for it.
    "thread_port_leak": "failed: OSError: [Errno 98] Address already in use",
}


# Suites whose failing order holds a second cause for the same victim: fix says so ("another cause is
# in that order too"); with the patch of the second (another listed victim's) in as well, it passes.
SECOND_CAUSE = {"cleaner_hides_single_polluter": "tests/test_d_lobby.py::test_lobby_is_not_full"}
# Suites whose failing order holds no other victim: it passes as a whole once the patch is in.
WHOLE_ORDER_PASSES = {"cleaner_hides_single_polluter", "conjoined_polluters", "gate_new_victim",
                      "late_polluter_with_cleaner", "ws_sysmodules_poison", "xdist_addopts", "stale_loop_objects",
                      "singleton_manager_leak", "sometimes_after_polluter", "dotfile_in_home"}


def case_id(case: tuple[str, dict[str, Any]]) -> str:
    return f"{case[0]}:{victim_of(case[1]).rsplit('::', 1)[-1]}"


def fix_record(project: Path) -> dict[str, Any]:
    """The first fix recorded in the project."""
    path = min(project.glob(".wsdoctor/runs/*/fix.json"))
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def failures(done: subprocess.CompletedProcess[str]) -> set[str]:
    """The tests plain pytest reported failed or in error (its -rfE summary)."""
    return {line.split(" ", 1)[1].split(" - ", 1)[0] for line in done.stdout.splitlines()
            if line.startswith(("FAILED ", "ERROR "))}


def apply_patch(project: Path, diff: str) -> None:
    applied = subprocess.run(["git", "apply", "-"], input=diff, cwd=project, capture_output=True, text=True)
    assert applied.returncode == 0, applied.stderr


def plain_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    command = [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider", "-rfE", *args]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=300)


def named(order: list[str]) -> list[str]:
    """The order as pytest's command line can take it: pytest refuses a path with a '[', so such a
    file's tests are selected with -k from their directory (in the suite's order, then)."""
    if not any("[" in nodeid.split("::", 1)[0] for nodeid in order):
        return order
    directories = dict.fromkeys(nodeid.split("::", 1)[0].rsplit("/", 1)[0] for nodeid in order)
    return [*directories, "-k", " or ".join(nodeid.rsplit("::", 1)[-1] for nodeid in order)]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_fix_proves_a_patch_and_the_failing_order_then_passes(case: tuple[str, dict[str, Any]], scenario,  # type: ignore[no-untyped-def]
                                                              bisected) -> None:
    name, entry = case
    victim = victim_of(entry)
    if name in NO_PATCH:
        project = scenario(name)
        assert run_wsdoctor(project, "bisect", victim, "--workers", "2", *entry.get("bisect_args", [])).exit_code < 2
    else:
        project = bisected(name, entry).project  # the test_bisect tests read its result: this one changes it
    tree = tree_of(project)
    done = run_wsdoctor(project, "fix", victim, "--workers", "2")
    assert tree_of(project) == tree, "fix wrote into the project without --apply"
    if name in NO_PATCH:
        assert done.exit_code == 1, done.stderr
        assert NO_PATCH[name] in done.stderr and done.stdout == ""
        return
    assert done.exit_code == 0, done.stderr
    record = fix_record(project)
    proven = [c for c in record["candidates"] if c["proven"]]
    answer = next((c for c in proven if c["whole_order"]), proven[0])
    assert done.stdout == answer["diff"] and done.stdout.startswith(("--- a/", "--- /dev/null"))
    order = named(record["order"] or [*entry["polluters"], victim])
    if entry["scope"] == "file-import":  # its imports pollute: the whole suite, in its order
        order = []
    extra = ["-n", "0"] if name == "xdist_addopts" else []
    unpatched = shutil.copytree(project, project.with_name(name + "-unpatched"))  # its run may leave files
    before = failures(plain_pytest(unpatched, *order, *extra))
    assert victim in before
    apply_patch(project, done.stdout)
    if name in SECOND_CAUSE:
        assert "another cause is in that order too" in done.stderr
        assert run_wsdoctor(project, "bisect", SECOND_CAUSE[name], "--workers", "2").exit_code == 0
        second = run_wsdoctor(project, "fix", SECOND_CAUSE[name], "--workers", "2")
        assert second.exit_code == 0, second.stderr
        apply_patch(project, second.stdout)
    assert not record["order"] or record["order"][-1] == victim
    after = plain_pytest(project, *order, *extra)
    # The victim passes; what else fails there failed before (other victims of the same suite, whose
    # polluters are in that order too): nothing new.
    assert victim not in failures(after) and failures(after) <= before - {victim}, after.stdout[-3000:]
    if name in WHOLE_ORDER_PASSES:
        assert after.returncode == 0, after.stdout[-3000:]


def test_fix_apply_writes_the_proven_patch_and_report_shows_it_as_the_solution(scenario) -> None:  # type: ignore[no-untyped-def]
    project = scenario("late_polluter_with_cleaner")
    victim = "tests/test_b_defaults.py::test_default_websocket_url"
    assert run_wsdoctor(project, "bisect", victim, "--workers", "2").exit_code == 0
    done = run_wsdoctor(project, "fix", "--apply", "--workers", "2")  # the newest bisect
    assert done.exit_code == 0, done.stderr
    text = (project / "tests/test_c_staging.py").read_text()
    assert 'monkeypatch.setenv("APP_WS_URL", "wss://staging.invalid/ws")' in text
    assert "applied to tests/test_c_staging.py" in done.stderr
    assert plain_pytest(project, "tests/test_c_staging.py", "tests/test_b_defaults.py").returncode == 0
    report = run_wsdoctor(project, "report", "--format", "json")
    solutions = [i["solution"] for i in json.loads(report.stdout)["insights"] if victim in i["tests"]]
    assert solutions and solutions[0].startswith("**Proven patch** (`wsdoctor fix`; proven in a copy of the project")
    assert "```diff\n--- a/tests/test_c_staging.py" in solutions[0]


def test_fix_all_proves_every_candidate_and_shows_each_proven_one(scenario) -> None:  # type: ignore[no-untyped-def]
    project = scenario("late_polluter_with_cleaner")
    victim = "tests/test_b_defaults.py::test_default_websocket_url"
    assert run_wsdoctor(project, "bisect", victim, "--workers", "2").exit_code == 0
    done = run_wsdoctor(project, "fix", victim, "--all", "--workers", "2")
    assert done.exit_code == 0, done.stderr
    record = fix_record(project)
    assert all(c["tried"] for c in record["candidates"])
    sources = [c["source"] for c in record["candidates"] if c["proven"]]
    assert sources[0] == "rewrite" and "cleaner" in sources and "state" in sources
    assert done.stdout.count("# candidate ") == len(sources)


@pytest.mark.parametrize("python", [p for p in os.environ.get("WSDOCTOR_FIX_PYTHONS", "").split(os.pathsep) if p]
                         or [pytest.param("", marks=pytest.mark.skip(
                             reason="WSDOCTOR_FIX_PYTHONS names no interpreter (with pytest and websockets)"))])
def test_the_import_time_stub_is_fixed_in_a_fixture_on_other_pythons(python: str, scenario) -> None:  # type: ignore[no-untyped-def]
    """On Python 3.11+ a mock in sys.modules is not a package, not even with ``__path__ = []``: the
    patch keeps the stub in a fixture, proven on the interpreter given."""
    project = scenario("ws_sysmodules_poison")
    victim = "tests/integration/test_server_integration.py::test_command_injection"
    assert run_wsdoctor(project, "bisect", victim, "--python", python).exit_code == 0
    done = run_wsdoctor(project, "fix", "--python", python)
    assert done.exit_code == 0, done.stderr
    assert "patch.dict(sys.modules" in done.stdout and "types.ModuleType(\"websockets\")" in done.stdout
    assert "__path__" not in done.stdout


def test_the_stubbed_files_tests_still_run_where_the_stubbed_package_is_not_installed(scenario,  # type: ignore[no-untyped-def]
                                                                                     tmp_path: Path) -> None:
    """The stub existed so that the unit tests need no websockets: the module they test is imported
    against the stub still, and only then is sys.modules put back."""
    project = scenario("ws_sysmodules_poison")
    victim = "tests/integration/test_server_integration.py::test_command_injection"
    assert run_wsdoctor(project, "bisect", victim).exit_code == 0
    done = run_wsdoctor(project, "fix")
    assert done.exit_code == 0, done.stderr
    apply_patch(project, done.stdout)
    hidden = tmp_path / "without-websockets"
    hidden.mkdir()
    (hidden / "websockets.py").write_text("raise ImportError('websockets is not installed here')\n")
    env = {**os.environ, "PYTHONPATH": str(hidden)}
    assert subprocess.run([sys.executable, "-c", "import websockets"], env=env, cwd=project,
                          capture_output=True).returncode == 1
    unit = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider", "-q",
                           "tests/unit"], env=env, cwd=project, capture_output=True, text=True, timeout=120)
    assert unit.returncode == 0, unit.stdout + unit.stderr
    assert "3 passed" in unit.stdout


def test_fix_without_a_bisect_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("def test_x():\n    pass\n")
    done = run_wsdoctor(tmp_path, "fix", "test_x.py::test_x")
    assert done.exit_code == 2, done.stderr
    assert "no bisect of test_x.py::test_x is recorded here; run `wsdoctor bisect test_x.py::test_x` first" \
        in done.stderr
    assert "Traceback" not in done.stderr


def test_fix_after_run_bisect_fixes_every_cause_and_the_suite_then_has_no_finding(scenario) -> None:  # type: ignore[no-untyped-def]
    """`run --bisect` found two causes (a mock left on a class attribute, a module's client replaced),
    each breaking two tests: one `fix --apply` proves and writes both patches."""
    project = scenario("mock_on_class_attr")
    assert run_wsdoctor(project, "run", "--bisect", "--workers", "2").exit_code == 1
    done = run_wsdoctor(project, "fix", "--apply", "--workers", "2")
    assert done.exit_code == 0, done.stderr
    assert done.stderr.count(": proven (") == 2
    assert "applied to tests/test_a_server.py" in done.stderr and "applied to tests/test_a_notifications.py" \
        in done.stderr
    again = run_wsdoctor(project, "run", "--workers", "2", "--json", "after.json")
    assert again.exit_code == 0, again.stdout + again.stderr


def test_an_interrupted_fix_exits_130_writes_nothing_and_removes_its_copy(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", {
        "tests/test_a.py": ("import os, time\nfrom pathlib import Path\n\n"
                            "def test_sets_env():\n    os.environ['WSDOCTOR_FIX_DEMO'] = '1'\n\n"
                            "def test_slow_when_asked():\n"
                            "    if Path('slow.flag').exists():\n        time.sleep(120)\n"),
        "tests/test_b.py": "import os\n\ndef test_env_clean():\n    assert 'WSDOCTOR_FIX_DEMO' not in os.environ\n",
    })
    assert run_wsdoctor(project, "bisect", "tests/test_b.py::test_env_clean").exit_code == 0
    (project / "slow.flag").write_text("")  # the proof's run of test_a.py now takes two minutes
    tree = tree_of(project)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")} | {"COLUMNS": "300"}
    fix = subprocess.Popen([sys.executable, "-m", "wsdoctor", "fix"], cwd=project, env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert fix.stderr is not None
    said = ""
    while "each proven in a copy of the project (" not in said:
        line = fix.stderr.readline()
        assert line, said
        said += line
    time.sleep(2)
    fix.send_signal(signal.SIGINT)
    rest, _ = fix.communicate(timeout=60)
    assert fix.returncode == 130
    scratch = Path(said.split("each proven in a copy of the project (", 1)[1].split(")", 1)[0])
    assert not scratch.exists() and not scratch.parent.exists()
    assert tree_of(project) == tree and rest == ""
