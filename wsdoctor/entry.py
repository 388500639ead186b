"""The console script and `python -m wsdoctor`.

Children run in process groups of their own, so a signal meant for wsdoctor reaches only
wsdoctor: SIGTERM (how CI systems cancel a job) and SIGHUP (a closed terminal) are turned
into Ctrl-C, whose handling kills every child and keeps the record. Ctrl-C while wsdoctor is
still starting ends it quietly with 130, as it does later (the imports take a tenth of a second).
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from wsdoctor.exits import ExitCode


def main() -> None:
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    try:
        from wsdoctor.cli import main as command_line
    except KeyboardInterrupt:
        sys.exit(ExitCode.INTERRUPTED)
    command_line()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)
