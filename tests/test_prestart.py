"""Prestarted children (wsdoctor.execution.prestart): a child started before it is asked for is the
child a fresh start would have given: its own temp directory, mark, descriptors, hash seed and
parent; its asserts rewritten; a prestarted child that died on the way is replaced by one started
the old way, in silence."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_project, run_wsdoctor
from tests.test_faults import assert_none_survives, pids_dir, start_wsdoctor, wait_for
from wsdoctor.child import reaper

pytestmark = pytest.mark.e2e

# Every child writes what it sees into ../seen/<pid>.json, beside the project.
SEES = """
import json, os, sys, tempfile, threading
from pathlib import Path

def pytest_sessionstart(session):
    seen = Path(__file__).parents[1] / "seen"
    seen.mkdir(exist_ok=True)
    with open("/proc/self/cmdline", "rb") as handle:
        prestarted = b"--wsdoctor-prestarted" in handle.read()
    record = {
        "prestarted": prestarted, "pid": os.getpid(), "ppid": os.getppid(), "sid": os.getsid(0),
        "tmpdir": os.environ.get("TMPDIR"), "tempdir": tempfile.gettempdir(),
        "mark": os.environ.get("WSDOCTOR_CHILD_MARK"),
        "environ_mark": [entry.decode() for entry in Path("/proc/self/environ").read_bytes().split(b"\\0")
                         if entry.startswith(b"WSDOCTOR_CHILD_MARK=")],
        "parent_fd_variable": "WSDOCTOR_PARENT_FD" in os.environ,
        "watching": any(t.name == "wsdoctor-parent-watch" for t in threading.enumerate()),
        "stdin": os.readlink("/proc/self/fd/0"),
        "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd")),
        "hash": hash("wsdoctor"), "argv0": sys.argv[0], "path0": sys.path[0], "cwd": os.getcwd(),
        "main": getattr(sys.modules["__main__"], "__file__", None),
    }
    (seen / f"{os.getpid()}.json").write_text(json.dumps(record))
"""

# An order-dependent test: wsdoctor runs it in several children.
SUITE = {
    "conftest.py": SEES,
    "tests/test_a.py": "import os\n\ndef test_sets_a_flag():\n    os.environ['LEFT_BEHIND'] = '1'\n",
    "tests/test_b.py": "import os\n\ndef test_flag_unset():\n    assert 'LEFT_BEHIND' not in os.environ\n",
}


def seen_records(project: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted((project.parent / "seen").glob("*.json"))]


def run_recording(tmp_path: Path, **env: str) -> tuple[int, list[dict[str, Any]], str]:
    """`wsdoctor run` on the recording suite, one child at a time: its pid, the records, its stderr."""
    project = make_project(tmp_path / "project", SUITE)
    environment = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, **env}
    wsdoctor = subprocess.Popen([sys.executable, "-m", "wsdoctor", "run", "--workers", "1", "--json", "out.json"],
                                cwd=project, env=environment, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, stderr = wsdoctor.communicate(timeout=300)
    assert wsdoctor.returncode == 1, stderr
    verdicts = {t["nodeid"]: t["verdict"] for t in json.loads((project / "out.json").read_text())["tests"]}
    assert verdicts == {"tests/test_a.py::test_sets_a_flag": "pass",
                        "tests/test_b.py::test_flag_unset": "order-dependent"}, stderr
    return wsdoctor.pid, seen_records(project), stderr


def test_a_prestarted_child_is_the_child_a_fresh_start_gives(tmp_path: Path) -> None:
    wsdoctor_pid, records, _ = run_recording(tmp_path)
    prestarted = [r for r in records if r["prestarted"]]
    fresh = [r for r in records if not r["prestarted"]]
    assert prestarted and fresh, records  # the first child is started fresh, later ones were waiting
    for record in records:
        assert record["tmpdir"] == record["tempdir"] and record["tmpdir"], record  # its own, as tempfile has it
        assert record["environ_mark"] == [f"WSDOCTOR_CHILD_MARK={record['mark']}"], record  # the reaper sees it
        assert record["ppid"] == wsdoctor_pid and record["sid"] == record["pid"], record
        assert record["watching"] and not record["parent_fd_variable"], record
        assert record["stdin"] == "/dev/null", record
        assert record["cwd"] == record["path0"], record
        assert record["argv0"].endswith(os.path.join("pytest", "__main__.py")), record
    assert len({r["tmpdir"] for r in records}) == len({r["mark"] for r in records}) == len(records)
    # The same descriptors as a fresh child's: the pipe the command line came through is closed.
    assert {tuple(r["fds"]) for r in prestarted} == {tuple(r["fds"]) for r in fresh}, records
    assert {r["main"] for r in prestarted} == {r["main"] for r in fresh}, records
    if sys.flags.hash_randomization and "PYTHONHASHSEED" not in os.environ:
        assert len({r["hash"] for r in records}) == len(records), records  # a seed of its own, as before


def test_a_fixed_hash_seed_reaches_every_child(tmp_path: Path) -> None:
    _, records, _ = run_recording(tmp_path, PYTHONHASHSEED="7")
    assert any(r["prestarted"] for r in records), records
    assert len({r["hash"] for r in records}) == 1, records


def test_turned_off_every_child_is_started_the_old_way(tmp_path: Path) -> None:
    _, records, _ = run_recording(tmp_path, WSDOCTOR_PRESTART="0")
    assert records and not any(r["prestarted"] for r in records), records


FAILS = {"tests/test_a.py": "def test_compares():\n    expected = {'a': 1}\n    assert expected['a'] == 2\n"}


@pytest.mark.parametrize("prestart", ["1", "0"])
def test_a_failing_assert_in_a_prestarted_child_still_shows_its_values(tmp_path: Path, prestart: str) -> None:
    project = make_project(tmp_path / "project", FAILS)
    done = run_wsdoctor(project, "run", "--workers", "1", "--json", "out.json", env={"WSDOCTOR_PRESTART": prestart})
    assert done.exit_code == 1, done.stderr
    [test] = done.json("out.json")["tests"]
    assert test["verdict"] == "fail"
    assert "assert 1 == 2" in done.stdout, done.stdout  # rewritten: the values, not only the expression


# Run a second time (in the suite's second look, a later child), it kills the prestarted child waiting
# for the next command line, as if it had died on the way (a test's kill, the OOM killer); one child
# runs at a time, so that is the only other child of the run.
KILLS_THE_WAITING_CHILD = """
import os, signal, time
from pathlib import Path

OUTSIDE = Path(__file__).parents[2]

def waiting_children():
    token = os.environ["WSDOCTOR_CHILD_MARK"].split("/")[0] + "/"
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            environment = Path(f"/proc/{name}/environ").read_bytes().split(b"\\0")
            command = Path(f"/proc/{name}/cmdline").read_bytes()
        except OSError:
            continue
        mine = any(e.startswith(b"WSDOCTOR_CHILD_MARK=" + token.encode()) for e in environment)
        if mine and b"--wsdoctor-prestarted" in command:
            found.append(int(name))
    return found

def test_kills_the_waiting_child():
    if not (OUTSIDE / "ran").exists():
        (OUTSIDE / "ran").write_text("")
        return
    deadline = time.monotonic() + 10
    while not waiting_children() and time.monotonic() < deadline:
        time.sleep(0.02)
    for pid in waiting_children():
        os.kill(pid, signal.SIGKILL)
        (OUTSIDE / "killed").mkdir(exist_ok=True)
        (OUTSIDE / "killed" / str(pid)).write_text("")
"""


def test_a_prestarted_child_that_died_is_replaced_by_one_started_the_old_way(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project",
                           {**SUITE, "conftest.py": "", "tests/test_aa.py": KILLS_THE_WAITING_CHILD})
    done = run_wsdoctor(project, "run", "--workers", "1", "--json", "out.json")
    assert len(list((project.parent / "killed").iterdir())) >= 1  # it had one to kill
    assert done.exit_code == 1, done.stdout + done.stderr
    assert done.verdicts("out.json") == {"tests/test_a.py::test_sets_a_flag": "pass",
                                         "tests/test_aa.py::test_kills_the_waiting_child": "pass",
                                         "tests/test_b.py::test_flag_unset": "order-dependent"}, done.stdout
    assert "prestart" not in (done.stdout + done.stderr).lower() and "Traceback" not in done.stderr


# A test between the polluter and its victim waits for ever the second time it runs (in the suite's
# second look, a later child: a command that starts a single child prestarts none).
WAITS = {**SUITE, "conftest.py": "",
         "tests/test_aa.py": ("import os, time\nfrom pathlib import Path\n\ndef test_waits_the_second_time():\n"
                             "    pids = Path(__file__).parents[2] / 'pids'\n"
                             "    if not (pids / 'ran').exists():\n"
                             "        pids.mkdir(exist_ok=True)\n"
                             "        (pids / 'ran').write_text('')\n"
                             "        return\n"
                             "    (pids / 'waiting').write_text(str(os.getpid()))\n"
                             "    time.sleep(600)\n")}


def test_sigkill_of_wsdoctor_ends_the_prestarted_child_too(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", WAITS)
    wsdoctor = start_wsdoctor(project, "run", "--timeout", "0", "--workers", "1")
    wait_for(pids_dir(project) / "waiting")
    child = int((pids_dir(project) / "waiting").read_text())
    token = dict(entry.split("=", 1) for entry in Path(f"/proc/{child}/environ").read_text().split("\0")
                 if "=" in entry)[reaper.MARK_VARIABLE].split("/")[0]
    deadline = time.monotonic() + 10
    while len(run_processes := reaper.marked(token + "/", whole=False)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    waiting = [pid for pid in run_processes if b"--wsdoctor-prestarted" in Path(f"/proc/{pid}/cmdline").read_bytes()
               and pid != child]
    assert waiting, run_processes  # the next child, started ahead

    wsdoctor.send_signal(signal.SIGKILL)
    wsdoctor.communicate(timeout=30)
    assert_none_survives(run_processes)


# --- the gate's first children, started by wsdoctor's entry before its command line is read ------------

CLEAN = {"conftest.py": SEES,
         "tests/test_a.py": "def test_one():\n    assert 1\n\ndef test_two():\n    assert 2\n",
         "tests/test_b.py": "def test_three():\n    assert 3\n"}
CLEAN_VERDICTS = {"tests/test_a.py::test_one": "pass", "tests/test_a.py::test_two": "pass",
                  "tests/test_b.py::test_three": "pass"}


def gate(project: Path, *args: str, **env: str) -> tuple[subprocess.Popen[str], str]:
    """`wsdoctor ci` on a project: the process (ended) and its stderr."""
    environment = {**{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GITHUB_"))}, **env}
    wsdoctor = subprocess.Popen([sys.executable, "-m", "wsdoctor", "ci", "--seed", "1", *args], cwd=project,
                                env=environment, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, stderr = wsdoctor.communicate(timeout=300)
    return wsdoctor, stderr


def gate_verdicts(project: Path) -> dict[str, str]:
    [record] = (project / ".wsdoctor" / "runs").glob("*/run.json")
    return {v["nodeid"]: v["verdict"] for v in json.loads(record.read_text())["verdicts"]}


def test_the_gates_children_are_started_before_its_command_line_is_read(tmp_path: Path) -> None:
    """On main the gate's first two children are started the usual way (none is ever prestarted
    for them: a child is prestarted only after two were started, on a core none of them uses)."""
    project = make_project(tmp_path / "project", CLEAN)
    wsdoctor, stderr = gate(project, "--workers", "2")
    assert wsdoctor.returncode == 0, stderr
    records = seen_records(project)
    assert len(records) == 2 and all(r["prestarted"] for r in records), records  # the suite order, the shuffled one
    for record in records:
        assert record["ppid"] == wsdoctor.pid and record["sid"] == record["pid"], record
        assert record["tmpdir"] == record["tempdir"] and record["watching"], record
        assert record["environ_mark"] == [f"WSDOCTOR_CHILD_MARK={record['mark']}"], record
    assert len({r["tmpdir"] for r in records}) == len({r["mark"] for r in records}) == 2
    assert gate_verdicts(project) == CLEAN_VERDICTS


@pytest.mark.parametrize("how", ["--python", "config"])
def test_with_an_interpreter_asked_for_the_gates_children_start_the_usual_way(tmp_path: Path, how: str) -> None:
    """Pins the fallback: the command may resolve another interpreter than the early start would use."""
    project = make_project(tmp_path / "project", CLEAN)
    args: tuple[str, ...] = ("--python", sys.executable) if how == "--python" else ()
    if how == "config":
        (project / "pyproject.toml").write_text(f"[tool.wsdoctor]\npython = {json.dumps(sys.executable)}\n")
    wsdoctor, stderr = gate(project, "--workers", "2", *args)
    assert wsdoctor.returncode == 0, stderr
    records = seen_records(project)
    assert len(records) == 2 and not any(r["prestarted"] for r in records), records
    assert gate_verdicts(project) == CLEAN_VERDICTS


def test_early_children_started_otherwise_than_the_command_starts_its_own_are_discarded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wsdoctor_in_process: Any) -> None:
    """The environment changed after the early start: its children are not used, nothing of them stays,
    and the verdicts are the same. On main there is no early start (start_early does not exist)."""
    from wsdoctor.execution.prestart import SLOT, start_early

    project = make_project(tmp_path / "project", CLEAN)
    for name in [name for name in os.environ if name.startswith("PYTEST_")]:
        monkeypatch.delenv(name)
    start_early(["wsdoctor", "ci", "--workers", "2"], project)
    early = [SLOT.take(), SLOT.take()]
    assert all(early), early
    for waiting in early:
        SLOT.put(waiting)  # type: ignore[arg-type]
    monkeypatch.setenv("WSDOCTOR_TEST_CHANGED", "1")
    done = wsdoctor_in_process(project, "ci", "--seed", "1", "--workers", "2")
    assert done.exit_code == 0, done.stderr
    records = seen_records(project)
    assert len(records) == 2 and not any(r["prestarted"] for r in records), records
    assert gate_verdicts(project) == CLEAN_VERDICTS
    for waiting in early:
        assert waiting is not None and waiting.started.proc.returncode is not None  # ended and waited for
        assert not waiting.started.temp.exists()
    assert "prestart" not in (done.stdout + done.stderr).lower()


@pytest.mark.parametrize("bad", [("tests/missing.py",), ("--fail-on", "nothing")])
def test_bad_input_ends_the_early_children_and_leaves_no_temp_directory(tmp_path: Path, bad: tuple[str, ...]) -> None:
    """On main no child is started early (no staged package in .wsdoctor/child/)."""
    project = make_project(tmp_path / "project", CLEAN)
    temp = tmp_path / "temp"
    temp.mkdir()
    wsdoctor, stderr = gate(project, *bad, TMPDIR=str(temp))
    assert wsdoctor.returncode == 2, stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr, stderr
    assert list((project / ".wsdoctor" / "child").iterdir()), "the early start had staged the package"
    assert list(temp.iterdir()) == []
    assert _children_in(temp) == [], "an early child outlived wsdoctor"
    assert seen_records(project) == []


def _children_in(temp: Path) -> list[int]:
    """Processes whose temp directory is under ``temp``."""
    found = []
    for pid in reaper.marked("", whole=False):
        with contextlib.suppress(OSError):
            if str(temp).encode() in Path(f"/proc/{pid}/environ").read_bytes():
                found.append(pid)
    return found


def test_two_gates_at_once_stage_one_package_and_both_pass(tmp_path: Path) -> None:
    """On main each run stages the package in its own record (no .wsdoctor/child/)."""
    project = make_project(tmp_path / "project", {k: v for k, v in CLEAN.items() if k != "conftest.py"})
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GITHUB_"))}
    gates = [subprocess.Popen([sys.executable, "-m", "wsdoctor", "ci", "--seed", str(seed), "--workers", "2"],
                              cwd=project, env=environment, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for seed in (1, 2)]
    ended = [(g.communicate(timeout=300), g.returncode) for g in gates]
    assert [code for _, code in ended] == [0, 0], ended
    records = [json.loads(path.read_text()) for path in (project / ".wsdoctor" / "runs").glob("*/run.json")]
    assert len(records) == 2 and all(r["status"] == "complete" for r in records)
    [package] = (project / ".wsdoctor" / "child").iterdir()  # one, whole: no staging directory left
    assert (package / "wsdoctor" / "child" / "__main__.py").is_file()
    named = {path.read_text().strip() for path in (project / ".wsdoctor" / "runs").glob("*/child-package.txt")}
    assert named == {package.name}


# A blind bisect (the polluter's state is in a closure the probes cannot see) halves one child at a
# time, each started ahead with the shared part of its command line. Which conftest.py files pytest
# loads first (before its configure hooks) depends on the paths on the command line: a child's own,
# read after it was started.
AWAITS = {
    "pytest.ini": "[pytest]\n",
    "conftest.py": """
import json, os, time
from pathlib import Path

with open("/proc/self/cmdline", "rb") as handle:
    AWAITED = b"--wsdoctor-await" in handle.read()
seen = Path(__file__).parents[1] / "seen"
seen.mkdir(exist_ok=True)
(seen / f"{os.getpid()}.json").write_text(json.dumps({"pid": os.getpid(), "awaited": AWAITED, "imported": time.time()}))

def pytest_configure(config):
    (seen / f"configured-{os.getpid()}").write_text("")
""",
    "app/__init__.py": "",
    "app/hidden.py": ("def _switch():\n    state = []\n    return (lambda: state.append(1)), (lambda: bool(state))\n\n"
                      "flip, flipped = _switch()\n"),
    "tests/test_a.py": "".join(f"def test_filler_{n}():\n    pass\n\n" for n in range(12))
    + "from app import hidden\n\ndef test_flips_the_switch():\n    hidden.flip()\n\n"
    + "".join(f"def test_later_filler_{n}():\n    pass\n\n" for n in range(12)),
    "tests/sub/conftest.py": """
import os
from pathlib import Path

# Before pytest's configure hooks, as a conftest.py of the paths on the command line; during the
# collection, as one found on the way.
seen = Path(__file__).parents[3] / "seen"
(seen / f"sub-{os.getpid()}").write_text("late" if (seen / f"configured-{os.getpid()}").exists() else "first")
""",
    "tests/sub/test_victim.py": ("import time\n\nfrom app import hidden\n\ndef test_switch_is_off():\n"
                                "    time.sleep(0.3)\n    assert not hidden.flipped()\n"),
}


def handed(project: Path) -> dict[int, float]:
    """Each child's pid (its collection says it) and when wsdoctor handed it its command line."""
    found = {}
    for journal in (project / ".wsdoctor" / "runs").glob("*/journal.jsonl"):
        for line in journal.read_text().splitlines():
            for child in json.loads(line)["result"]["children"]:
                events = (Path(child["artifacts"]) / "events.jsonl").read_text().splitlines()
                [collected] = [json.loads(event) for event in events if '"event": "collected"' in event]
                found[collected["pid"]] = child["began"]
    return found


def test_a_child_started_ahead_loads_the_projects_conftests_only_once_given_its_own_paths(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", AWAITS)
    done = run_wsdoctor(project, "bisect", "tests/sub/test_victim.py::test_switch_is_off", "--workers", "1",
                        "--json", "out.json")
    assert done.exit_code == 0, done.stdout + done.stderr
    assert done.json("out.json")["polluters"] == ["tests/test_a.py::test_flips_the_switch"], done.stdout
    awaited = [record for record in seen_records(project) if record["awaited"]]
    assert len(awaited) >= 2, seen_records(project)
    began = handed(project)
    for record in awaited:  # not while the child before it ran: each test of the victim's takes 0.3 s
        assert record["imported"] > began[record["pid"]] - 0.05, (record, began)
    # The victim's conftest.py first, as on a command line naming the victim's file: not during the
    # collection, as in the suite's run (whose command line names no path).
    sub_conftests = {int(path.name[4:]): path.read_text() for path in (project.parent / "seen").glob("sub-*")}
    assert {sub_conftests[record["pid"]] for record in awaited} == {"first"}, sub_conftests
