"""Wall-clock time, in one place so tests can patch it."""

import time


def now() -> float:
    return time.time()
