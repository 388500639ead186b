"""The console script and `python -m wsdoctor`.

Children run in process groups of their own, so a signal meant for wsdoctor reaches only
wsdoctor: SIGTERM (how CI systems cancel a job) and SIGHUP (a closed terminal) are turned
into Ctrl-C, whose handling kills every child and keeps the record. Ctrl-C while wsdoctor is
still starting ends it quietly with 130, as it does later (the imports take a tenth of a second).

Only the first signal interrupts: a second one (an impatient Ctrl-C, or the SIGTERM that CI
sends after its own SIGINT) arrives while the children are being killed and the record written,
and must not cut that short, nor turn the exit into a traceback or 143. A third ends the process
at once, with 130.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from wsdoctor.exits import ExitCode

_signals_seen = 0


# wsdoctor keeps what it reads for the whole command (tens of thousands of records after a large
# suite): a young collection every 700 new objects walked them 130 times in one gate of 2,000 tests.
GC_THRESHOLDS = (10_000, 20, 20)


def main() -> None:
    gc.set_threshold(*GC_THRESHOLDS)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    for stream in (sys.stdout, sys.stderr):  # a test file whose name is not UTF-8 is shown, not a crash
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    try:
        _start_children_early()
        from wsdoctor.cli import main as command_line
    except KeyboardInterrupt:
        sys.exit(ExitCode.INTERRUPTED)
    try:
        command_line()
    except SystemExit as ending:
        if _signals_seen:
            _exit_before_finalization(ending.code)
        raise


def _start_children_early() -> None:
    """The gate's first children start while the command line is still being imported and read
    (wsdoctor.execution.prestart.start_early): their start-up and wsdoctor's run side by side."""
    from wsdoctor.execution.prestart import start_early

    with contextlib.suppress(OSError):  # the working directory is gone: the command says so
        start_early(sys.argv, Path.cwd())


def _exit_before_finalization(code: object) -> None:
    """An interrupted wsdoctor has kept its record and chosen its exit code. The interpreter's
    finalization puts back the default signal handlers, so the SIGTERM a CI system sends after its
    SIGINT would, arriving then, end the process with -15 instead: leave without finalization."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can be said
            stream.flush()
    from wsdoctor.execution.prestart import SLOT

    SLOT.discard()  # what atexit would have done: no child waits on, no temp directory stays
    os._exit(code if isinstance(code, int) else ExitCode.INTERRUPTED)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    global _signals_seen
    _signals_seen += 1
    if _signals_seen == 1:
        raise KeyboardInterrupt(signal.Signals(signum).name)
    if _signals_seen > 2:
        os._exit(ExitCode.INTERRUPTED)
    # the second: cleaning up already, and the exit code will be 130
