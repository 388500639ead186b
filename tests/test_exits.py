"""The exit policy: every command's outcome, and every error, to 0 / 1 / 2 / 3 / 130."""

from __future__ import annotations

import errno

import pytest

from wsdoctor.exits import (
    ExitCode,
    UsageError,
    WsdoctorError,
    bisect_exit,
    exit_for,
    fix_exit,
    problems_exit,
    run_exit,
)
from wsdoctor.records import (
    BisectResult,
    FixCandidate,
    FixResult,
    FixSource,
    RecordStatus,
    RunOptions,
    RunRecord,
    TestVerdict,
    Verdict,
)

OPTIONS = RunOptions(paths=(), pytest_args=(), python="python")


def record(status: RecordStatus, *verdicts: Verdict) -> RunRecord:
    return RunRecord(id="r", wsdoctor_version="0", cwd=".", options=OPTIONS, status=status,
                     verdicts=tuple(TestVerdict(nodeid=f"t.py::test_{i}", verdict=v, reason="")  # type: ignore[arg-type]
                                    for i, v in enumerate(verdicts)))


@pytest.mark.parametrize(("run", "code"), [
    (record(RecordStatus.COMPLETE, Verdict.PASS, Verdict.PASS), ExitCode.OK),
    (record(RecordStatus.COMPLETE, Verdict.PASS, Verdict.ORDER_DEPENDENT), ExitCode.FINDINGS),
    (record(RecordStatus.COMPLETE, Verdict.COLLECTION_ERROR), ExitCode.FINDINGS),
    (record(RecordStatus.INTERRUPTED, Verdict.PASS), ExitCode.INTERRUPTED),
    (record(RecordStatus.FAILED), ExitCode.INTERNAL),
    (record(RecordStatus.RUNNING), ExitCode.INTERRUPTED),  # not finished: no verdict, no code of its own yet
    (record(RecordStatus.ABANDONED), ExitCode.INTERRUPTED),  # its wsdoctor was killed
])
def test_run_exits_1_on_findings_like_a_linter(run: RunRecord, code: ExitCode) -> None:
    assert run_exit(run) is code


@pytest.mark.parametrize(("verdict", "code"), [
    (Verdict.ORDER_DEPENDENT, ExitCode.OK), (Verdict.BRITTLE, ExitCode.OK),  # proven, as git bisect exits 0
    (Verdict.FAILS_ALONE, ExitCode.FINDINGS), (Verdict.FLAKY, ExitCode.FINDINGS),
    (Verdict.NOT_REPRODUCED, ExitCode.FINDINGS)])
def test_bisect_exits_0_when_it_proved_a_culprit(verdict: Verdict, code: ExitCode) -> None:
    assert bisect_exit(BisectResult(victim="v", verdict=verdict, summary="")) is code  # type: ignore[arg-type]


def test_playbook_problems_exit_1() -> None:
    assert (problems_exit([]), problems_exit(["a problem"])) == (ExitCode.OK, ExitCode.FINDINGS)


class FakeParserError(Exception):
    """The shape of click's usage errors, as the command line parser raises them."""

    exit_code = 2

    def __init__(self, message: str, command_path: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.ctx = type("Ctx", (), {"command_path": command_path})() if command_path else None

    def format_message(self) -> str:
        return self.message


@pytest.mark.parametrize(("error", "expected"), [
    (UsageError("path not found: x"), (ExitCode.USAGE, "path not found: x")),
    (WsdoctorError("no collection was recorded"), (ExitCode.INTERNAL, "no collection was recorded")),
    (KeyboardInterrupt(), (ExitCode.INTERRUPTED, "interrupted")),
    (RuntimeError("boom"), (ExitCode.INTERNAL, "internal error: RuntimeError: boom")),
    (FakeParserError("No such option: --x", "wsdoctor run"),
     (ExitCode.USAGE, "No such option: --x (see `wsdoctor run --help`)")),
    (FakeParserError("Try 'wsdoctor --help'", "wsdoctor"), (ExitCode.USAGE, "Try 'wsdoctor --help'")),
    (FakeParserError("", "wsdoctor"), (ExitCode.USAGE, "")),  # a bare group already showed its help
    (FakeParserError("bad", None), (ExitCode.USAGE, "bad")),
    (OSError(errno.ENOSPC, "No space left on device", "/p/.wsdoctor/runs/r/run.json"),
     (ExitCode.USAGE, "cannot write /p/.wsdoctor/runs/r/run.json: No space left on device; free some space "
                      "(wsdoctor keeps its records and its children's output in .wsdoctor/ of the project)")),
    (OSError(errno.EROFS, "Read-only file system", "/p/.wsdoctor"),
     (ExitCode.USAGE, "cannot write /p/.wsdoctor: Read-only file system; wsdoctor writes its records in "
                      ".wsdoctor/ of the project: run it where it can write (a writable copy of the project)")),
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "/p/x"),
     (ExitCode.INTERNAL, "internal error: FileNotFoundError: [Errno 2] No such file or directory: '/p/x'")),
])
def test_every_error_has_one_exit_code_and_one_line(error: BaseException, expected: tuple[ExitCode, str]) -> None:
    assert exit_for(error) == expected


def test_fix_exits_0_only_when_every_cause_has_a_proven_patch() -> None:
    proven = FixCandidate(title="t", source=FixSource.REWRITE, files=("a.py",), diff="", proven=True)
    dropped = FixCandidate(title="t", source=FixSource.STATE, files=("a.py",), diff="", dropped="why")
    fixed = FixResult(victim="v", bisect="b", candidates=(dropped, proven))
    unfixed = FixResult(victim="w", bisect="c", candidates=(dropped,), reason="why")
    assert fix_exit([fixed]) is ExitCode.OK
    assert fix_exit([fixed, unfixed]) is ExitCode.FINDINGS
    assert fix_exit([]) is ExitCode.FINDINGS
