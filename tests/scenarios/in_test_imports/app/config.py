"""Process-wide switches, flipped by the debug toolbar at runtime."""

DEBUG = False
SLOW_CALLBACK_WARNING = 0.1


def log_level() -> str:
    return "DEBUG" if DEBUG else "INFO"
