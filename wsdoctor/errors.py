"""One exception family; the CLI maps it to a one-line message and an exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


class WsdoctorError(Exception):
    exit_code = EXIT_INTERNAL


class UsageError(WsdoctorError):
    """Bad input: the message says what to do instead."""

    exit_code = EXIT_USAGE
