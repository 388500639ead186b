"""The exit policy, in one place: one exception family, and the exit code of every command's outcome.

| code | every command                                                                     |
| ---- | ----------------------------------------------------------------------------------- |
| 0    | it did its job and found nothing wrong (bisect: it found the culprit and proved it; |
|      | fix: a proven patch for every cause)                                                |
| 1    | it found something: findings (run), no culprit proven (bisect), no proven patch     |
|      | (fix), playbook problems                                                            |
| 2    | bad input, or a record on disk that cannot be read: one line says what to do        |
| 3    | wsdoctor's own bug: the traceback goes to a file                                    |
| 130  | interrupted (Ctrl-C, SIGTERM, SIGHUP): what was recorded is kept                    |

Commands return an ExitCode; errors are raised as WsdoctorError (or come from the command
line parser) and the command line maps them with ``exit_for`` in its one handler.
"""

from __future__ import annotations

import enum
import errno
from collections.abc import Sequence, Sized
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # imported where used: wsdoctor's entry imports this module before it starts any child
    from wsdoctor.records import BisectResult, FixResult, RunRecord


class ExitCode(enum.IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2
    INTERNAL = 3
    INTERRUPTED = 130


class WsdoctorError(Exception):
    """A failure of wsdoctor itself (exit 3), unless a subclass says otherwise."""

    exit_code = ExitCode.INTERNAL


class UsageError(WsdoctorError):
    """Bad input: the message says what to do instead."""

    exit_code = ExitCode.USAGE


# --- each command's outcome ------------------------------------------------------------------

def run_exit(record: RunRecord) -> ExitCode:
    """`run` (and `run --last`, which exits with the code its run had: 130 for one that did not finish)."""
    from wsdoctor.analysis.audit import significant
    from wsdoctor.records import RecordStatus

    if record.status in {RecordStatus.INTERRUPTED, RecordStatus.ABANDONED, RecordStatus.RUNNING}:
        return ExitCode.INTERRUPTED
    if record.status is not RecordStatus.COMPLETE:
        return ExitCode.INTERNAL
    return (ExitCode.FINDINGS if record.findings() or significant(record.audit()) or record.lingering()
            else ExitCode.OK)


def bisect_exit(result: BisectResult) -> ExitCode:
    """`bisect` exits 0 when it proved a culprit (as git bisect does), 1 when the verdict says why not."""
    from wsdoctor.records import FOUND_BY_BISECT

    return ExitCode.OK if result.verdict in FOUND_BY_BISECT else ExitCode.FINDINGS


def fix_exit(results: Sequence[FixResult]) -> ExitCode:
    """`fix` exits 0 when every cause it was given has a proven patch, 1 when one has none (the reason is said)."""
    return ExitCode.OK if results and all(result.proven is not None for result in results) else ExitCode.FINDINGS


def problems_exit(problems: Sized) -> ExitCode:
    """`playbooks list` and `playbooks validate`, as a linter: 1 when a playbook has problems."""
    return ExitCode.FINDINGS if len(problems) else ExitCode.OK


# --- errors ---------------------------------------------------------------------------------------


@runtime_checkable
class ParserError(Protocol):
    """What the command line parser (click, inside typer) raises for bad usage."""

    exit_code: int

    def format_message(self) -> str: ...


_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_NOT_WRITABLE = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def exit_for(error: BaseException) -> tuple[ExitCode, str]:
    """The exit code for an error that ended a command, and the one line to print ("": none)."""
    if isinstance(error, WsdoctorError):
        return error.exit_code, str(error)
    if isinstance(error, OSError) and error.errno in _FULL | _NOT_WRITABLE:
        return ExitCode.USAGE, _cannot_write(error)
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.INTERRUPTED, "interrupted"
    if isinstance(error, ParserError):
        return _parser_exit(error)
    return ExitCode.INTERNAL, f"internal error: {type(error).__name__}: {error}"


def _cannot_write(error: OSError) -> str:
    """A disk that is full or a directory that is not writable: the place, and what to do."""
    where = f"cannot write {error.filename}" if error.filename else "cannot write"
    if error.errno in _FULL:
        return (f"{where}: {error.strerror}; free some space (wsdoctor keeps its records and its children's "
                "output in .wsdoctor/ of the project)")
    return (f"{where}: {error.strerror}; wsdoctor writes its records in .wsdoctor/ of the project: run it "
            "where it can write (a writable copy of the project)")


def _parser_exit(error: ParserError) -> tuple[ExitCode, str]:
    message = error.format_message().strip()
    context = getattr(error, "ctx", None)
    if not message or context is None or "--help" in message:  # no message: a bare group showed its help
        return ExitCode.USAGE, message
    return ExitCode.USAGE, f"{message} (see `{context.command_path} --help`)"
