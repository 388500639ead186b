"""The console script and `python -m wsdoctor`: Ctrl-C while wsdoctor is still starting ends it
quietly with 130, as it does later (the command line's imports take a tenth of a second)."""

from __future__ import annotations

import sys

from wsdoctor.errors import EXIT_INTERRUPTED


def main() -> None:
    try:
        from wsdoctor.cli import main as command_line
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    command_line()
