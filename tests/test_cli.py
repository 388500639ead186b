"""The command line as a user meets it: bad input, records, options, interrupts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import make_project, run_wsdoctor
from wsdoctor.cli import app
from wsdoctor.exits import UsageError
from wsdoctor.paths import PACKAGES_DIR
from wsdoctor.records import RecordStatus, RunOptions, RunRecord
from wsdoctor.store import create_record_dir, load_record, save_record

PASSING_AND_POLLUTED = {
    "pytest.ini": "[pytest]\ntestpaths = tests\nmarkers =\n    slow: slow tests\n",
    "tests/test_a.py": "import os\n\ndef test_sets_env():\n    os.environ['WSDOCTOR_DEMO'] = '1'\n",
    "tests/test_b.py": ("import os\nimport pytest\n\ndef test_env_clean():\n"
                        "    assert 'WSDOCTOR_DEMO' not in os.environ\n\n"
                        "@pytest.mark.slow\ndef test_slow():\n    pass\n"),
}


def assert_one_line_usage_error(done_stderr: str, exit_code: int, expected: str) -> None:
    lines = [line for line in done_stderr.splitlines() if line.startswith("wsdoctor: error:")]
    assert exit_code == 2
    assert len(lines) == 1 and expected in lines[0], done_stderr
    assert "Traceback" not in done_stderr


def an_earlier_record(project: Path) -> Path:
    """A run recorded before the bad input: bad input must leave it as it was."""
    record_id, directory = create_record_dir(project)
    save_record(directory, RunRecord(id=record_id, wsdoctor_version="0", cwd=str(project), created=1.0,
                                     options=RunOptions(paths=(), pytest_args=(), python="python"),
                                     status=RecordStatus.COMPLETE))
    return directory / "run.json"


def snapshot(project: Path) -> dict[str, bytes]:
    """The records (.wsdoctor/ but the staged child package: the children's code, which the first
    children of `run` and `ci` are started with before the command line is read, not a record)."""
    packages = project / ".wsdoctor" / PACKAGES_DIR
    return {str(p.relative_to(project)): p.read_bytes() for p in (project / ".wsdoctor").rglob("*")
            if p.is_file() and packages not in p.parents}


BAD_INPUT_WITHOUT_A_CHILD = [
    (["run", "no/such/dir"], "path not found: no/such/dir"),
    (["run", "--frobnicate"], "No such option: --frobnicate (see `wsdoctor run --help`)"),
    (["run", "--isolate", "module"], "'module' is not one of"),
    (["run", "--repeat", "0"], "--repeat"),
    (["run", "--repeat", "99999999999999999999"], "is not in the range 1<=x<=1000"),  # main: planned for ever
    (["bisect", "tests/test_b.py::test_env_clean", "--repeat", "1001"], "is not in the range 1<=x<=1000"),
    (["run", "--timeout", "inf"], "'--timeout': inf is not a finite number of seconds"),
    (["run", "--timeout", "nan"], "'--timeout': nan is not a finite number of seconds"),
    (["run", "--timeout", "1e12"], "'--timeout': 1000000000000.0 is not a finite number of seconds"),
    (["ci", "--budget", "nan"], "--budget 'nan': give seconds"),
    (["bisect", "tests/test_b.py::test_env_clean", "--budget", "inf"], "--budget 'inf': give seconds"),
    (["bisect", "tests/test_b.py::test_env_clean", "--timeout", "-inf"], "'--timeout'"),
    (["run", "--json", "missing/dir/x.json"], "the directory missing/dir does not exist; create it first"),
    (["run", "--json", "tests"], "--json tests is a directory; give it a file name"),
    (["bisect", "tests/test_b.py::test_env_clean", "--json", "missing/x.json"], "missing does not exist"),
    (["run", "--", "-x"], "`-- -x` cannot go to wsdoctor's children: it stops the session at a failure"),
    (["run", "--", "-vsx"], "`-- -x` cannot go"),
    (["run", "--", "--maxfail", "2"], "`-- --maxfail` cannot go"),
    (["run", "--", "--collect-only"], "`-- --collect-only` cannot go to wsdoctor's children: it runs no test"),
    (["run", "--", "--collectonly"], "`-- --collectonly` cannot go"),  # main: 4 not-run, exit 1
    (["run", "--", "--lf"], "picks tests from pytest's cache of an earlier run"),
    (["run", "--", "--pdb"], "waits for an interactive debugger"),
    (["run", "--", "-p", "no:wsdoctor.child.plugin"], "would turn off wsdoctor's plugin in its children"),
    (["run", "--", "--junitxml=ci.xml"], "every child would overwrite the file with its own part of the run"),
    (["bisect", "tests/test_b.py::test_env_clean", "--", "--json-report-file", "r.json"], "would overwrite"),
    (["bisect", "tests/test_b.py::test_env_clean", "--resume"], "no interrupted bisect of"),
    # main read an --order-file after collecting: /dev/zero until memory ran out, an empty one ignored
    (["bisect", "tests/test_b.py::test_env_clean", "--order-file", "/dev/zero"], "is larger than 64 MB"),
    (["bisect", "tests/test_b.py::test_env_clean", "--order-file", "/dev/null"], "names no test: give it node ids"),
    (["bisect", "tests/test_b.py::test_env_clean", "--order-file", "tests"], "cannot read --order-file tests: Is a"),
    (["bisect", "tests/test_b.py::test_env_clean", "--budget", "0"], "--budget '0': give seconds"),
    (["bisect", "tests/test_b.py::test_env_clean", "--budget", "5 parsecs"], "--budget '5 parsecs': give"),
    (["bisect", "tests/test_b.py::test_env_clean", "--budget", "0.5runs"], "child runs are a whole number"),
    (["bisect", "tests/test_b.py::test_env_clean", "--budget", "999999999h"], "--budget '999999999h': at most a week"),
    (["report", "--format", "xml"], "--format 'xml': use terminal, markdown, html or json"),
    (["report", "nope"], "no record 'nope'"),
    (["report", "--out", "pytest.ini/x.md"], "--out pytest.ini/x.md cannot be written"),  # main: exit 3
    (["report", "--out", "pytest.ini", "--format", "markdown"], "--out pytest.ini is not a directory"),  # main: 3
    (["playbooks", "list", "--frob"], "No such option: --frob (see `wsdoctor playbooks list --help`)"),
    (["frobnicate"], "No such command 'frobnicate'. (see `wsdoctor --help`)"),
    (["playbooks", "lis"], "No such command 'lis'. Did you mean 'list'? (see `wsdoctor playbooks --help`)"),
    (["demo", "--dir", "pytest.ini"], "--dir pytest.ini is a file: give --dir a new or empty directory"),
    (["demo", "--dir", "tests"], "--dir tests is not empty"),
    (["demo", "--dir", "pytest.ini/sub"], "--dir pytest.ini/sub cannot be made: "),  # main: exit 3
    (["ci", "--reports", "pytest.ini"], "--reports pytest.ini is not a directory"),  # main: exit 3 after the run
    # main read these whole: until the memory ran out (the process was killed, or a MemoryError: exit 3)
    (["ci", "--baseline", "/dev/zero"], "cannot read baseline /dev/zero: it is not text"),
    (["ci", "--durations-from", "/dev/zero"], "/dev/zero is not a readable wsdoctor record (not a JSON object)"),
    (["baseline", "update", "--baseline", "/dev/zero"], "cannot read baseline /dev/zero: it is not text"),
    (["fix", "--timeout", "nan"], "'--timeout': nan is not a finite number of seconds"),
    (["fix", "--workers", "0"], "--workers"),
    (["fix"], "bisected nothing: `wsdoctor run --bisect` bisects its order-dependent tests, or give a victim"),
    (["fix", "nope"], "no record 'nope'"),
    (["fix", "tests/test_b.py::test_env_clean"],
     "no bisect of tests/test_b.py::test_env_clean is recorded here; run `wsdoctor bisect "
     "tests/test_b.py::test_env_clean` first"),
]


@pytest.fixture
def traceback_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Where an internal error would leave its traceback file: there must be none."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    monkeypatch.setenv("TMPDIR", str(directory))
    return lambda: sorted(p.name for p in directory.glob("wsdoctor-internal-error-*"))


@pytest.mark.parametrize(("args", "expected"), BAD_INPUT_WITHOUT_A_CHILD)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], expected: str, traceback_files,  # type: ignore[no-untyped-def]
                                          wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    project = make_project(tmp_path / "project", PASSING_AND_POLLUTED)
    earlier = an_earlier_record(project)
    before = snapshot(project)
    done = wsdoctor_in_process(project, *args)
    assert_one_line_usage_error(done.stderr, done.exit_code, expected)
    assert snapshot(project) == before  # nothing recorded is lost, and no half-made record is left
    assert load_record(earlier).status is RecordStatus.COMPLETE
    assert traceback_files() == []


@pytest.mark.parametrize(("args", "expected"), [
    (["run", "--last"], "no wsdoctor run is recorded"),
    (["report"], "no wsdoctor run or bisect is recorded here or above"),
    (["fix"], "no wsdoctor run or bisect is recorded here or above"),
])
def test_no_record_yet_is_bad_input(tmp_path: Path, args: list[str], expected: str,
                                    wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    done = wsdoctor_in_process(make_project(tmp_path, PASSING_AND_POLLUTED), *args)
    assert_one_line_usage_error(done.stderr, done.exit_code, expected)


RANDOM_BYTES = bytes(range(256)) * 4


def one_word_python(directory: Path, says: str = "echo hello") -> str:
    script = directory / "fake-python"
    script.write_text(f"#!/bin/sh\n{says}\n")
    script.chmod(0o755)
    return str(script)


@pytest.mark.e2e
@pytest.mark.parametrize(("args", "expected"), [
    (["run", "no/such/dir"], "path not found: no/such/dir"),  # the console script itself, once
    (["run", "--python", "/no/such/python"], "cannot be run"),
    (["run", "--python", sys.executable.replace("python", "no-python")], "cannot be run"),
    (["run", "--python", "/bin/true"], "--python /bin/true did not answer as a Python interpreter does (it printed "
                                       "nothing)"),
    (["run", "--python", "{ONE_WORD}"], "did not answer as a Python interpreter does (it printed 'hello')"),
    # main read what it printed whole: `yes` filled the memory until the process was killed
    (["run", "--python", "{YES}"], "printed more than a Python's version does"),
    (["bisect", "tests/test_b.py::test_env_clean", "--python", "/bin/true"], "did not answer"),
    (["run", "--", "--no-such-pytest-flag"], "unrecognized arguments: --no-such-pytest-flag"),
    (["bisect", "tests/test_b.py::test_env_clean", "--order-file", "random.bin"],
     "--order-file random.bin is not text (byte 128 is not UTF-8)"),
])
def test_bad_input_found_by_a_child_is_one_line_and_exit_2(tmp_path: Path, args: list[str], expected: str) -> None:
    project = make_project(tmp_path / "project", PASSING_AND_POLLUTED)
    (project / "random.bin").write_bytes(RANDOM_BYTES)
    earlier = an_earlier_record(project)
    before = snapshot(project)
    scripts = {"{ONE_WORD}": "echo hello", "{YES}": "yes"}
    args = [one_word_python(tmp_path, scripts[arg]) if arg in scripts else arg for arg in args]
    done = run_wsdoctor(project, *args, env={"TMPDIR": str(tmp_path)})
    assert_one_line_usage_error(done.stderr, done.exit_code, expected)
    assert snapshot(project) == before  # nothing recorded is lost, and no half-made record is left
    assert load_record(earlier).status is RecordStatus.COMPLETE
    assert list(tmp_path.glob("wsdoctor-internal-error-*")) == []


@pytest.mark.e2e
def test_a_python_that_never_answers_is_bad_input_within_its_deadline(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrapper script that hangs: on main wsdoctor waited 120 s; the deadline holds, and what the
    script started goes with it."""
    from wsdoctor.execution import interpreter

    monkeypatch.setattr(interpreter, "ANSWER_SECONDS", 1.0)
    hangs = one_word_python(tmp_path, "sleep 300 &\necho $! > sleeper.pid\nwait")
    started = time.monotonic()
    with pytest.raises(UsageError, match="did not answer within 1 s"):
        interpreter.check_interpreter(hangs, tmp_path)
    assert time.monotonic() - started < 30
    sleeper = int((tmp_path / "sleeper.pid").read_text())
    time.sleep(0.2)
    assert not Path(f"/proc/{sleeper}").exists() or "Z" in Path(f"/proc/{sleeper}/stat").read_text().split()[2]


def test_the_first_refused_pytest_option_is_named_and_value_options_are_read_past() -> None:
    from wsdoctor.commands.passthrough import check_pytest_args

    for fine in (["-k", "x or -x"], ["-rxX"], ["-m", "not slow", "-q"], ["--deselect", "-x"], ["-pno:randomly"],
                 ["-o", "addopts=-x"], ["--tb=short", "-W", "error"], ["tests/test_x.py"]):
        check_pytest_args(fine)
    with pytest.raises(UsageError, match="`-- -x`"):
        check_pytest_args(["-v", "-q", "-sx", "--junitxml", "ci.xml"])
    with pytest.raises(UsageError, match="-p no:wsdoctor-recorder"):
        check_pytest_args(["-pno:wsdoctor-recorder"])


def test_a_bare_command_shows_its_help_and_exits_2(tmp_path: Path, wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    for args in ((), ("playbooks",)):
        done = wsdoctor_in_process(tmp_path, *args)
        assert (done.exit_code, done.stderr) == (2, "")
        assert "Usage: wsdoctor" in done.stdout


@pytest.mark.parametrize("command", [(), ("run",), ("bisect",), ("report",), ("demo",), ("fix",), ("playbooks",),
                                     ("playbooks", "list"), ("playbooks", "show"), ("playbooks", "validate")])
def test_h_is_help_on_every_command(tmp_path: Path, command: tuple[str, ...], wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    done = wsdoctor_in_process(tmp_path, *command, "-h")
    assert (done.exit_code, done.stderr) == (0, "")
    assert f"Usage: wsdoctor {' '.join(command)}".rstrip() in done.stdout


@pytest.mark.e2e
def test_python_without_pytest_is_bad_input(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    project = make_project(tmp_path / "project", PASSING_AND_POLLUTED)
    done = run_wsdoctor(project, "run", "--python", str(tmp_path / "bare" / "bin" / "python"))
    assert_one_line_usage_error(done.stderr, done.exit_code, "has no importable pytest")


@pytest.mark.e2e
def test_directory_without_tests_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    done = run_wsdoctor(tmp_path, "run", "src")
    assert_one_line_usage_error(done.stderr, done.exit_code, "no tests collected in src")


@pytest.mark.e2e
def test_run_leaves_a_record_that_last_shows_and_git_ignores(tmp_path: Path) -> None:
    project = make_project(tmp_path, PASSING_AND_POLLUTED)
    first = run_wsdoctor(project, "run", "--workers", "2")
    assert first.exit_code == 1, first.stderr
    [record] = (project / ".wsdoctor" / "runs").glob("*/run.json")
    data = json.loads(record.read_text())
    assert data["status"] == "complete"
    assert {v["nodeid"]: v["verdict"] for v in data["verdicts"]}["tests/test_b.py::test_env_clean"] \
        == "order-dependent"
    assert (project / ".wsdoctor" / ".gitignore").read_text().splitlines()[-1] == "*"
    shown = run_wsdoctor(project, "run", "--last")
    assert shown.exit_code == 1
    assert "tests/test_b.py::test_env_clean" in shown.stdout and "order-dependent" in shown.stdout


@pytest.mark.e2e
def test_arguments_after_double_dash_reach_every_child(tmp_path: Path) -> None:
    project = make_project(tmp_path, PASSING_AND_POLLUTED)
    done = run_wsdoctor(project, "run", "--json", "out.json", "--", "-m", "not slow")
    assert sorted(done.verdicts("out.json")) == ["tests/test_a.py::test_sets_env",
                                                 "tests/test_b.py::test_env_clean"]
    assert "-m 'not slow'" in done.json("out.json")["tests"][1]["reproduce"][0]


def python_files_of(project: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in (project / "tests").glob("*.py")}


@pytest.mark.e2e
def test_an_option_with_an_optional_value_cannot_take_the_childrens_paths(tmp_path: Path) -> None:
    """`-- --debug` (its file name is optional): on main it took the first test file a child was given
    for its log's name, wrote the log over it, and the next children found a SyntaxError there: 2
    tests were "flaky" and the order-dependent one "fail"."""
    project = make_project(tmp_path, PASSING_AND_POLLUTED)
    files = python_files_of(project)
    done = run_wsdoctor(project, "run", "--isolate", "file", "--json", "out.json", "--", "--debug")
    assert done.verdicts("out.json") == {"tests/test_a.py::test_sets_env": "pass",
                                         "tests/test_b.py::test_env_clean": "order-dependent",
                                         "tests/test_b.py::test_slow": "pass"}
    assert python_files_of(project) == files


@pytest.mark.e2e
def test_order_options_add_labelled_runs(tmp_path: Path) -> None:
    project = make_project(tmp_path, PASSING_AND_POLLUTED)
    done = run_wsdoctor(project, "run", "--reverse", "--shuffle", "3", "--repeat", "2",
                        "--isolate", "file", "--json", "out.json")
    env_clean = next(t for t in done.json("out.json")["tests"] if t["nodeid"].endswith("test_env_clean"))
    runs = {r["run"] for r in env_clean["runs"]}
    assert {"suite #1", "suite #2", "reverse #1", "reverse #2", "shuffle 3 #1", "shuffle 3 #2",
            "file tests/test_b.py"} <= runs
    reverse = next(r for r in env_clean["runs"] if r["run"] == "reverse #1")
    assert reverse["outcome"] == "passed"  # reversed, the polluter runs after its victim


@pytest.mark.e2e
def test_json_document_lists_every_test_with_its_runs(tmp_path: Path) -> None:
    project = make_project(tmp_path, PASSING_AND_POLLUTED)
    document = run_wsdoctor(project, "run", "--json", "out.json").json("out.json")
    assert document["exit_code"] == 1 and document["status"] == "complete"
    assert document["summary"]["order-dependent"] == 1 and document["summary"]["pass"] == 2
    victim = next(t for t in document["tests"] if t["verdict"] == "order-dependent")
    assert [(r["run"], r["context"], r["outcome"]) for r in victim["runs"]][:1] == [
        ("suite", "suite", "failed")]
    assert set(victim) == {"nodeid", "verdict", "reason", "detail", "reproduce", "runs"}


def test_cli_runner_reports_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("wsdoctor ")


HANGING = {
    "pytest.ini": "[pytest]\n",
    "test_hang.py": ("import time\n\ndef test_passes():\n    pass\n\n"
                     "def test_fails():\n    assert 1 == 2\n\n"
                     "def test_sleeps():\n    time.sleep(600)\n"),
}


def wait_for_children_at(project: Path, deadline: float, nodeid: str | None, count: int) -> list[int]:
    """The pids of ``count`` children that started ``nodeid`` (None: any test)."""
    while time.monotonic() < deadline:
        pids = []
        for events in (project / ".wsdoctor").glob("runs/*/children/*/events.jsonl"):
            lines = [json.loads(line) for line in events.read_text().splitlines() if line]
            if any(e["event"] == "start" and nodeid in (None, e["nodeid"]) for e in lines):
                pids.append(int(next(e["pid"] for e in lines if e["event"] == "collected")))
        if len(pids) >= count:
            return pids
        time.sleep(0.1)
    raise AssertionError(f"not {count} child(ren) started {nodeid or 'a test'} in time")


@pytest.mark.e2e
@pytest.mark.parametrize(("options", "children", "signum"), [
    ((), 1, signal.SIGINT),
    (("--isolate", "file", "--workers", "2"), 2, signal.SIGINT),
    ((), 1, signal.SIGTERM),  # how CI systems cancel a job
], ids=["suite-child", "pool-of-children", "sigterm"])
def test_interrupt_kills_every_child_and_keeps_what_they_finished(tmp_path: Path, options: tuple[str, ...],
                                                       children: int, signum: int) -> None:
    project = make_project(tmp_path, HANGING)
    proc = subprocess.Popen([sys.executable, "-m", "wsdoctor", "run", "--timeout", "300", "--json", "out.json",
                             *options], cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pids = wait_for_children_at(project, time.monotonic() + 60, "test_hang.py::test_sleeps", children)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    [record] = (project / ".wsdoctor" / "runs").glob("*/run.json")
    kept = json.loads(record.read_text())
    assert kept["status"] == "interrupted"
    assert len(kept["plan_results"]) == children
    for run in kept["plan_results"]:  # each cut short by the user: neither a hang nor a crash
        assert {r["nodeid"]: r["outcome"] for r in run["results"]} == {
            "test_hang.py::test_passes": "passed", "test_hang.py::test_fails": "failed",
            "test_hang.py::test_sleeps": "not-run"}, run["plan"]["label"]
    assert "interrupted" in stderr and "Traceback" not in stderr
    document = json.loads((project / "out.json").read_text())
    assert (document["status"], document["exit_code"], document["tests"]) == ("interrupted", 130, [])

    shown = run_wsdoctor(project, "run", "--last")
    assert shown.exit_code == 130
    assert "failed test_hang.py::test_fails (suite): assert 1 == 2" in shown.stdout
    assert (f"run interrupted, no verdicts: {2 * children} of {3 * children} test run(s) done "
            f"({children} passed, {children} failed)") in shown.stdout


def test_corrupted_record_is_bad_input(tmp_path: Path, wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / ".wsdoctor" / "runs" / "20260101-000000-dead"
    broken.mkdir(parents=True)
    (broken / "run.json").write_text("{not json")
    for args in (("run", "--last"), ("report",), ("report", "20260101-000000-dead")):
        done = wsdoctor_in_process(tmp_path, *args)
        assert_one_line_usage_error(done.stderr, done.exit_code, "is not a readable wsdoctor record")


def test_a_damaged_fix_beside_a_bisect_is_bad_input(tmp_path: Path, wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    from wsdoctor import records

    record_id, directory = create_record_dir(tmp_path)
    result = records.BisectResult(victim="tests/test_b.py::test_env_clean", verdict=records.Verdict.ORDER_DEPENDENT,
                                  summary="s", polluters=("tests/test_a.py::test_sets_env",))
    save_record(directory, records.BisectRecord(
        id=record_id, wsdoctor_version="0", cwd=str(tmp_path), created=1.0, status=RecordStatus.COMPLETE,
        options=records.BisectOptions(victim=result.victim), result=result,
        collection=records.Collection(rootdir=str(tmp_path), inifile=None, tests=())))
    (directory / "fix.json").write_text('{"victim": 1}')
    done = wsdoctor_in_process(tmp_path, "report")
    assert_one_line_usage_error(done.stderr, done.exit_code, "fix.json is not a readable wsdoctor fix")


COMPAT_PYTHON = os.environ.get("WSDOCTOR_COMPAT_PYTHON", "")


@pytest.mark.e2e
@pytest.mark.skipif(not COMPAT_PYTHON, reason="WSDOCTOR_COMPAT_PYTHON is unset: `make test` sets it "
                    "to a Python 3.9 venv with pytest 7.0 when this machine has a Python 3.9")
def test_suite_runs_under_another_interpreter_without_installing_anything(tmp_path: Path) -> None:
    project = make_project(tmp_path, PASSING_AND_POLLUTED)
    done = run_wsdoctor(project, "run", "--python", COMPAT_PYTHON, "--json", "out.json")
    assert done.verdicts("out.json") == {"tests/test_a.py::test_sets_env": "pass",
                                         "tests/test_b.py::test_env_clean": "order-dependent",
                                         "tests/test_b.py::test_slow": "pass"}
    [record] = (project / ".wsdoctor" / "runs").glob("*/run.json")
    versions = json.loads(record.read_text())["versions"]
    assert (versions["python"][:4], versions["pytest"][:4]) == ("3.9.", "7.0.")
    listing = subprocess.run([COMPAT_PYTHON, "-m", "pip", "list"], capture_output=True, text=True).stdout
    assert "wsdoctor" not in listing


@pytest.mark.parametrize(("text", "limits"), [
    ("300", (300.0, None)), ("300s", (300.0, None)), ("5m", (300.0, None)), ("1.5h", (5400.0, None)),
    ("40runs", (None, 40)), ("1run", (None, 1)), ("5m,40runs", (300.0, 40)), (" 40 runs , 90 ", (90.0, 40))])
def test_a_budget_is_seconds_child_runs_or_both(text: str, limits: tuple[float | None, int | None]) -> None:
    from wsdoctor.cli import parse_budget

    assert parse_budget(text) == limits


SKIPS_AND_XFAILS = {
    "pytest.ini": "[pytest]\n",
    "tests/test_marks.py": ("import pytest\n\ndef test_passes():\n    pass\n\n"
                            "@pytest.mark.skip(reason='not on this platform')\ndef test_skipped():\n    pass\n\n"
                            "@pytest.mark.xfail(reason='known bug')\ndef test_xfailed():\n    assert 0\n"),
}


@pytest.mark.e2e
def test_skipped_and_xfailed_tests_are_counted_as_such_not_as_passes(tmp_path: Path) -> None:
    project = make_project(tmp_path, SKIPS_AND_XFAILS)
    done = run_wsdoctor(project, "run", "--json", "out.json")
    assert done.exit_code == 0, done.stderr
    assert done.verdicts("out.json") == {"tests/test_marks.py::test_passes": "pass",
                                         "tests/test_marks.py::test_skipped": "skip",
                                         "tests/test_marks.py::test_xfailed": "xfail"}
    summary = done.json("out.json")["summary"]
    assert (summary["pass"], summary["skip"], summary["xfail"], summary["not-run"]) == (1, 1, 1, 0)
    assert "3 test(s): 1 pass, 1 skip, 1 xfail" in done.stdout


HOOK_RAISING_FOR_EVERY_TEST = {
    "pytest.ini": "[pytest]\n",
    "tests/conftest.py": "def pytest_runtest_logreport(report):\n    raise RuntimeError('dashboard is down')\n",
    "tests/test_many.py": "".join(f"def test_{i}():\n    pass\n\n" for i in range(20)),
}


@pytest.mark.e2e
def test_a_hook_that_stops_every_session_leaves_every_test_not_run_after_a_few_children(tmp_path: Path) -> None:
    project = make_project(tmp_path, HOOK_RAISING_FOR_EVERY_TEST)
    done = run_wsdoctor(project, "run", "--json", "out.json")
    assert done.exit_code == 1, done.stderr
    document = done.json("out.json")
    assert set(done.verdicts("out.json").values()) == {"not-run"}
    assert all("RuntimeError: dashboard is down, raised in tests/conftest.py:2 in pytest_runtest_logreport"
               in test["reason"] for test in document["tests"])
    [record] = (project / ".wsdoctor" / "runs").glob("*/run.json")
    assert len(json.loads(record.read_text())["plan_results"][0]["children"]) == 2  # two stalled in a row: no more


@pytest.mark.e2e
@pytest.mark.parametrize(("name", "nodeid"), [
    (b"test_caf\xe9.py", "tests/test_caf\udce9.py"),
    # a line break: on main the ids file a child was given split it in two, and the victim was "flaky"
    (b"test_a\nb.py", "tests/test_a\nb.py"),
])
def test_a_test_file_whose_name_is_not_utf8_is_run_shown_and_reported(tmp_path: Path, name: bytes,
                                                                       nodeid: str) -> None:
    victim = "import os\n\ndef test_clean():\n    assert 'X' not in os.environ\n"
    project = make_project(tmp_path, {"pytest.ini": "[pytest]\n", "tests/test_z.py": victim})
    odd = os.fsencode(project / "tests") + b"/" + name
    with open(odd, "w") as handle:
        handle.write("import os\n\ndef test_sets():\n    os.environ['X'] = '1'\n")
    done = run_wsdoctor(project, "run", "--json", "out.json")
    assert done.exit_code == 1, done.stderr
    assert done.verdicts("out.json") == {f"{nodeid}::test_sets": "pass",
                                         "tests/test_z.py::test_clean": "order-dependent"}
    assert "order-dependent tests/test_z.py::test_clean" in done.stdout
    reported = run_wsdoctor(project, "report", "--format", "markdown", "--out", "md")
    assert reported.exit_code == 0, reported.stderr


BROKEN_CONFTEST = {
    "pytest.ini": "[pytest]\n",
    "tests/conftest.py": "import no_such_module\n",
    "tests/test_a.py": ("def test_a():\n    pass\n\ndef test_b():\n    pass\n\n"
                        "class TestX:\n    def test_c(self):\n        pass\n"),
    "tests/deep/test_d.py": "def test_d():\n    pass\n",
    "tests/.venv/lib/site-packages/test_vendored.py": "def test_not_ours():\n    pass\n",
}


@pytest.mark.e2e
def test_a_broken_conftest_counts_the_tests_it_hides(tmp_path: Path) -> None:
    project = make_project(tmp_path, BROKEN_CONFTEST)
    done = run_wsdoctor(project, "run", "--json", "out.json")
    assert done.exit_code == 1, done.stderr
    [broken] = done.json("out.json")["tests"]
    assert (broken["nodeid"], broken["verdict"]) == ("tests/conftest.py", "collection-error")
    assert broken["reason"] == ("does not import: pytest stops before it collects anything, hiding the 4 test(s) "
                                "under tests/")
    assert broken["detail"] == "ModuleNotFoundError: No module named 'no_such_module'"
