"""Faults in wsdoctor itself: killed with SIGKILL mid-run and mid-bisect, killed by a test, signalled
twice. No process of the run may survive it, and what was recorded must still be there."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import make_project, run_wsdoctor
from wsdoctor.child import reaper

pytestmark = pytest.mark.e2e  # wsdoctor runs as a subprocess, and is killed

# Each test writes its pid (and the pids of what it starts) into pids/: the processes of the run.
DAEMON = ("import os, sys, time\nif os.fork():\n    sys.exit(0)\nos.setsid()\n"
          "open(sys.argv[1], 'w').write(str(os.getpid()))\ntime.sleep(600)\n")
STARTS_PROCESSES = {
    "pytest.ini": "[pytest]\n",
    "tests/conftest.py": ("import os\nfrom pathlib import Path\n\nimport pytest\n\n"
                          "PIDS = Path(__file__).parents[2] / 'pids'\n\n"
                          "@pytest.fixture(autouse=True)\ndef _pid(request):\n"
                          "    PIDS.mkdir(exist_ok=True)\n"
                          "    (PIDS / f'child-{os.getpid()}').write_text(str(os.getpid()))\n"),
    "tests/test_a.py": (
        "import subprocess, sys, time\nfrom pathlib import Path\n\nPIDS = Path(__file__).parents[2] / 'pids'\n"
        f"DAEMON = {DAEMON!r}\n\n"
        "def test_passes():\n    pass\n\n"
        "def test_starts_a_process_and_a_setsid_daemon():\n"
        "    plain = subprocess.Popen(['sleep', '600'])\n"
        "    (PIDS / 'plain').write_text(str(plain.pid))\n"
        "    subprocess.run([sys.executable, '-c', DAEMON, str(PIDS / 'daemon')], check=True)\n"
        "    while not (PIDS / 'daemon').exists():\n        time.sleep(0.01)\n\n"
        "def test_waits_for_ever():\n    (PIDS / 'waiting').write_text('')\n    time.sleep(600)\n"),
}


def wait_for(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for a parent that does not reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def pids_dir(project: Path) -> Path:
    """Beside the project, not in it: wsdoctor puts back the files children leave in the tree."""
    return project.parent / "pids"


def pids_of_the_run(project: Path) -> list[int]:
    return [int(path.read_text()) for path in pids_dir(project).glob("*") if path.read_text()]


def assert_none_survives(pids: list[int], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = [pid for pid in pids if alive(pid)]
    for pid in survivors:  # do not leave them to the next test either
        os.kill(pid, signal.SIGKILL)
    assert survivors == [], f"{len(survivors)} process(es) of the run outlived wsdoctor"


def start_wsdoctor(project: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.Popen([sys.executable, "-m", "wsdoctor", *args], cwd=project, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize("command", ["run", "ci"])
def test_sigkill_mid_run_leaves_no_process_and_a_partial_record_shown_as_abandoned(tmp_path: Path,
                                                                                   command: str) -> None:
    project = make_project(tmp_path / "project", STARTS_PROCESSES)
    wsdoctor = start_wsdoctor(project, command, "--timeout", "0", "--workers", "1")
    wait_for(pids_dir(project) / "waiting")
    pids = pids_of_the_run(project)
    assert len(pids) == 3  # the pytest child, its plain child, and the daemon that left its session

    wsdoctor.kill()
    wsdoctor.communicate(timeout=30)

    assert_none_survives(pids)
    shown = run_wsdoctor(project, "run", "--last")
    assert shown.exit_code == 130
    assert "run abandoned, no verdicts: 2 of " in shown.stdout and "test run(s) done (2 passed)" in shown.stdout
    assert "1 child run(s) started" in shown.stdout  # killed: it never wrote how long it took


def test_the_record_is_written_before_the_first_child_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On main the first children started before run.json was written: wsdoctor killed in between left
    children's directories and no record (`run --last`: "no wsdoctor run is recorded")."""
    from wsdoctor.commands.run_start import RunRequest, start_run
    from wsdoctor.execution.pool import Executor
    from wsdoctor.records import RunOptions

    project = make_project(tmp_path, {"tests/test_a.py": "def test_a():\n    pass\n"})
    seen: list[bool] = []

    def record_there(self: Executor, plan: object, until: str | None = None) -> None:
        seen.extend(path.name == "run.json" for path in (project / ".wsdoctor" / "runs").glob("*/*"))
        raise KeyboardInterrupt  # as wsdoctor killed right there

    monkeypatch.setattr(Executor, "start_discovering", record_there)
    with pytest.raises(KeyboardInterrupt):
        start_run(RunRequest(options=RunOptions(paths=(), pytest_args=(), python=sys.executable), cwd=project))
    assert any(seen)  # run.json was there when the first child was about to start


def test_a_test_that_kills_wsdoctor_takes_its_whole_run_with_it(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", {
        **STARTS_PROCESSES,
        "tests/test_z.py": ("import os, signal\nfrom pathlib import Path\n\ndef test_kills_its_parent():\n"
                            "    (Path(__file__).parents[2] / 'pids' / 'killer').write_text(str(os.getpid()))\n"
                            "    os.kill(os.getppid(), signal.SIGKILL)\n"),
    })
    (project / "tests" / "test_a.py").write_text(
        (project / "tests" / "test_a.py").read_text().replace("def test_waits_for_ever", "def _not_a_test"))
    wsdoctor = start_wsdoctor(project, "run", "--timeout", "0", "--workers", "1")
    wsdoctor.communicate(timeout=120)
    assert wsdoctor.returncode == -signal.SIGKILL
    wait_for(pids_dir(project) / "killer")
    assert_none_survives(pids_of_the_run(project))
    assert run_wsdoctor(project, "run", "--last").exit_code == 130


# A child whose thread that watches wsdoctor never runs (as when the session ends right after a test
# killed wsdoctor, and the interpreter stops daemon threads at exit): only the exit-time check is left.
CHILD_WITHOUT_ITS_WATCHING_THREAD = """
import os, subprocess, sys, threading
threading.Thread.start = lambda self: None
from wsdoctor.child import reaper
reaper.watch_parent()
sleeper = subprocess.Popen(['sleep', '600'])
print(sleeper.pid, flush=True)
sys.stdin.readline()
"""


def test_a_child_ending_after_wsdoctor_died_ends_what_its_tests_started_without_its_watching_thread(
        tmp_path: Path) -> None:
    """On main the check was in that thread alone: the sleep outlived the run."""
    read_end, write_end = os.pipe()
    env = {**os.environ, reaper.PARENT_FD_VARIABLE: str(read_end), reaper.MARK_VARIABLE: "t/1"}
    child = subprocess.Popen([sys.executable, "-c", CHILD_WITHOUT_ITS_WATCHING_THREAD], env=env, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, pass_fds=(read_end,),
                             start_new_session=True)
    os.close(read_end)
    assert child.stdout is not None
    sleeper = int(child.stdout.readline())
    os.close(write_end)  # wsdoctor is gone
    child.communicate("\n", timeout=30)  # and the child's session ends
    assert child.returncode == -signal.SIGKILL  # its process group, itself included
    assert_none_survives([sleeper])


def test_sigkill_mid_bisect_leaves_no_process_and_an_abandoned_bisect(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", {
        **STARTS_PROCESSES,
        "tests/test_b.py": "import os\n\ndef test_victim():\n    assert 'NOPE' not in os.environ\n",
    })
    wsdoctor = start_wsdoctor(project, "bisect", "tests/test_b.py::test_victim", "--timeout", "0",
                              "--workers", "2")
    wait_for(pids_dir(project) / "waiting")  # the confirming run, in the suite order, waits for ever
    pids = pids_of_the_run(project)
    wsdoctor.kill()
    wsdoctor.communicate(timeout=30)

    assert_none_survives(pids)
    [record] = (project / ".wsdoctor" / "runs").glob("*/bisect.json")
    assert json.loads(record.read_text())["status"] == "running"  # as it was when killed
    reported = run_wsdoctor(project, "report")
    assert reported.exit_code == 2
    assert f"bisect {record.parent.name} has no result (abandoned)" in reported.stderr
    assert "--resume` finishes it" in reported.stderr


@pytest.mark.parametrize("second_after", [0.0, 0.02, 0.1])
def test_a_second_signal_during_cleanup_still_ends_with_130_and_a_kept_record(tmp_path: Path,
                                                                           second_after: float) -> None:
    project = make_project(tmp_path / "project", STARTS_PROCESSES)
    wsdoctor = start_wsdoctor(project, "run", "--timeout", "0", "--workers", "1", "--json", "out.json")
    wait_for(pids_dir(project) / "waiting")
    pids = pids_of_the_run(project)
    wsdoctor.send_signal(signal.SIGINT)
    time.sleep(second_after)
    if wsdoctor.poll() is None:
        wsdoctor.send_signal(signal.SIGTERM)
    _, stderr = wsdoctor.communicate(timeout=30)

    assert wsdoctor.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert_none_survives(pids)
    [record] = (project / ".wsdoctor" / "runs").glob("*/run.json")
    assert json.loads(record.read_text())["status"] == "interrupted"
    assert json.loads((project / "out.json").read_text())["status"] == "interrupted"


def test_a_daemon_a_test_started_with_setsid_ends_with_its_child_in_a_run_that_completes(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", STARTS_PROCESSES)
    tests = project / "tests" / "test_a.py"
    tests.write_text(tests.read_text().replace("def test_waits_for_ever", "def _not_a_test"))
    done = run_wsdoctor(project, "run", "--workers", "1")
    assert done.exit_code == 0, done.stderr
    pids = pids_of_the_run(project)
    assert len(pids) == 3 and not any(alive(pid) for pid in pids)  # wsdoctor has returned: nothing waits


PASSING_AND_FAILING = {
    "pytest.ini": "[pytest]\n",
    "tests/test_a.py": "def test_passes():\n    pass\n\ndef test_fails():\n    assert 1 == 2\n",
}


@pytest.fixture
def small_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 4 MB tmpfs (root with CAP_SYS_ADMIN only), unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path, leave: int) -> None:
    """Fill the disk up to ``leave`` bytes free (tmpfs counts whole pages)."""
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    with (disk / "filler").open("wb") as handle:
        handle.write(b"\0" * max(0, free - leave))


def assert_one_line_exit_2(stderr: str, exit_code: int, expected: str) -> None:
    lines = [line for line in stderr.splitlines() if line.startswith("wsdoctor: error:")]
    assert exit_code == 2, stderr
    assert len(lines) == 1 and expected in lines[0], stderr
    assert "Traceback" not in stderr and "internal error" not in stderr


@pytest.mark.parametrize("leave", [0, 64 * 1024, 160 * 1024, 300 * 1024],
                         ids=["full", "64k-left", "160k-left", "300k-left"])
def test_a_full_disk_is_one_line_that_says_where_exit_2_and_the_earlier_record_stays(small_disk: Path,
                                                                                       leave: int) -> None:
    project = make_project(small_disk / "project", PASSING_AND_FAILING)
    assert run_wsdoctor(project, "run", "--workers", "1").exit_code == 1
    [earlier] = (project / ".wsdoctor" / "runs").glob("*/run.json")
    fill(small_disk, leave)
    done = run_wsdoctor(project, "run", "--workers", "2", "--isolate", "test", env={"TMPDIR": str(small_disk.parent)})
    assert_one_line_exit_2(done.stderr, done.exit_code, "No space left on device; free some space")
    assert "cannot write " + str(project / ".wsdoctor") in done.stderr
    assert json.loads(earlier.read_text())["status"] == "complete"
    assert list(small_disk.parent.glob("wsdoctor-internal-error-*")) == []
    last = run_wsdoctor(project, "run", "--last")  # the partial record where it could be written, else the earlier
    assert (last.exit_code, last.stderr) in ((130, ""), (1, "")), last.stderr


def test_a_read_only_project_is_one_line_exit_2_and_its_records_can_still_be_read(small_disk: Path) -> None:
    project = make_project(small_disk / "project", PASSING_AND_FAILING)
    assert run_wsdoctor(project, "run", "--workers", "1").exit_code == 1
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    done = run_wsdoctor(project, "run")
    assert_one_line_exit_2(done.stderr, done.exit_code, "Read-only file system; wsdoctor writes its records in "
                                                         ".wsdoctor/ of the project")
    assert run_wsdoctor(project, "run", "--last").exit_code == 1


def test_tests_that_remove_wsdoctors_records_end_the_run_in_one_line_not_in_verdicts(tmp_path: Path) -> None:
    """A test that cleans what it thinks is its own (shutil.rmtree('.wsdoctor')): on main the run said
    "collection-error ." (no test collected, "hiding the other 0 test(s)"), exit 1."""
    project = make_project(tmp_path, {
        "tests/test_a.py": ("import shutil\n\ndef test_a():\n    pass\n\ndef test_cleans_up():\n"
                            "    shutil.rmtree('.wsdoctor', ignore_errors=True)\n\ndef test_c():\n    pass\n")})
    done = run_wsdoctor(project, "run", "--workers", "1")
    assert_one_line_exit_2(done.stderr, done.exit_code, "the tests removed wsdoctor's records while it ran")
    assert "keep .wsdoctor/ out of what they delete" in done.stderr and done.stdout == ""


# A process holding much memory takes some milliseconds to end after SIGKILL (the kernel frees it
# first): a sweep that only sent the signal returns while it still runs.
HOLDS_MEMORY = "import sys, time\nheld = b'x' * (256 << 20)\nprint('ready', flush=True)\ntime.sleep(600)\n"


def test_a_sweep_returns_once_what_it_killed_has_ended(tmp_path: Path) -> None:
    mark = f"test-sweep-{os.getpid()}"
    env = {**os.environ, reaper.MARK_VARIABLE: mark}
    holders = [subprocess.Popen([sys.executable, "-c", HOLDS_MEMORY], env=env, stdout=subprocess.PIPE, text=True)
               for _ in range(2)]
    try:
        for holder in holders:
            assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
        killed = reaper.sweep(mark)
        still_running = [holder.pid for holder in holders if alive(holder.pid)]
    finally:
        for holder in holders:
            holder.kill()
            holder.communicate()
    assert sorted(killed) == sorted(holder.pid for holder in holders)
    assert still_running == []
