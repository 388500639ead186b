"""What a plan's results say when a child did not run every test: crashes, hangs, ids not found."""

from __future__ import annotations

import signal

import pytest

from wsdoctor.childio import ChildOutput
from wsdoctor.execution.pool import _continuation, _results_of, missing_result
from wsdoctor.records import ChildProcess, ChildStatus, Outcome, TestResult

IDS = ("t.py::test_a", "t.py::test_b", "t.py::test_c")


def child(status: ChildStatus, exit_code: int | None, hang_dump: str = "") -> ChildProcess:
    return ChildProcess(status=status, exit_code=exit_code, seconds=0.0, artifacts="", started=(),
                        hang_dump=hang_dump, stderr_tail="Fatal Python error: Segmentation fault")


def died_at_b() -> ChildOutput:
    """A child that finished test_a and started test_b."""
    return ChildOutput(started=["t.py::test_a", "t.py::test_b"],
                       results={"t.py::test_a": TestResult("t.py::test_a", Outcome.PASSED)})


@pytest.mark.parametrize(("ended", "outcome", "message"), [
    (child(ChildStatus.CRASHED, -signal.SIGSEGV), Outcome.CRASH, "the test process died with SIGSEGV"),
    (child(ChildStatus.CRASHED, 3), Outcome.CRASH, "the test process exited with code 3 in the middle of this test"),
    (child(ChildStatus.HUNG, 1, "Timeout (0:01:00)!\nThread 0x1"), Outcome.HANG, "Timeout (0:01:00)!"),
    (child(ChildStatus.KILLED, -9), Outcome.HANG, "no progress within the timeout: killed by wsdoctor"),
])
def test_the_test_a_child_died_under_is_a_crash_or_a_hang(ended: ChildProcess, outcome: Outcome, message: str) -> None:
    results = _results_of(ended, died_at_b(), IDS, interrupted=False)
    assert results["t.py::test_a"].outcome is Outcome.PASSED
    assert (results["t.py::test_b"].outcome, results["t.py::test_b"].message) == (outcome, message)
    assert _continuation(ended, died_at_b(), IDS) == ("t.py::test_c",)  # the rest runs in a new child


def test_a_test_cut_short_by_the_user_is_neither_a_crash_nor_a_hang() -> None:
    results = _results_of(child(ChildStatus.KILLED, -9), died_at_b(), IDS, interrupted=True)
    assert list(results) == ["t.py::test_a"]


def test_a_child_that_completed_needs_no_continuation() -> None:
    assert _continuation(child(ChildStatus.COMPLETED, 0), died_at_b(), IDS) == ()


def test_a_test_never_run_is_an_error_when_its_file_did_not_collect_else_not_run_and_why() -> None:
    errors = {"t.py": "E   ImportError: no module named x"}
    broken = missing_result("t.py::test_a", errors)
    assert (broken.outcome, broken.message) == (
        Outcome.ERROR, "collection of t.py failed: ImportError: no module named x")
    not_found = missing_result("u.py::test_gone", errors, missing={"u.py::test_gone"})
    assert (not_found.outcome, not_found.message) == (
        Outcome.NOT_RUN, "not collected: the child found no test with this id")
    assert missing_result("u.py::test_other", {}).message == ""


STOP = "pytest stopped with INTERNALERROR: ValueError: boom, raised in tests/conftest.py:3 in pytest_runtest_logreport"


def test_a_session_that_stopped_under_a_test_leaves_it_not_run_and_the_rest_continues() -> None:
    stopped = died_at_b()
    stopped.stopped = STOP
    completed = child(ChildStatus.COMPLETED, 3)
    results = _results_of(completed, stopped, IDS, interrupted=False)
    assert (results["t.py::test_b"].outcome, results["t.py::test_b"].message) == (Outcome.NOT_RUN,
                                                                                  f"did not finish: {STOP}")
    assert _continuation(completed, stopped, IDS) == ("t.py::test_c",)
    never = missing_result("t.py::test_c", {}, stopped=STOP)
    assert (never.outcome, never.message) == (Outcome.NOT_RUN, f"never started: {STOP}")


def test_a_session_that_stopped_before_any_test_is_not_continued() -> None:
    output = ChildOutput(stopped=STOP)
    assert _continuation(child(ChildStatus.COMPLETED, 3), output, IDS) == ()


def test_the_threads_a_lingering_child_names_are_those_its_exit_dump_still_shows() -> None:
    from wsdoctor.execution.child import _status, _threads_alive
    from wsdoctor.records import AliveThread

    output = ChildOutput(exitcode=0, threads=(
        {"name": "heartbeat", "ident": 0x7F01, "started_by": "t.py::test_b"},
        {"name": "ended-meanwhile", "ident": 0x7F02, "started_by": "t.py::test_c"}),
        hang_dump="Timeout (0:00:03)!\nThread 0x0000000000007f01 (most recent call first):\n  File \"x.py\"\n")
    assert _status(output, killed=False, interrupted=False) is ChildStatus.LINGERED
    assert _threads_alive(output) == (AliveThread("heartbeat", "t.py::test_b"),)
    assert _status(output, killed=True, interrupted=True) is ChildStatus.KILLED  # Ctrl-C is not the suite's doing
    assert _status(ChildOutput(exitcode=0), killed=False, interrupted=False) is ChildStatus.COMPLETED
    assert _status(ChildOutput(hang_dump="Timeout"), killed=False, interrupted=False) is ChildStatus.HUNG
