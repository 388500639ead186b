"""Settings read from the environment at call time, as twelve-factor apps do."""

import os


def websocket_url() -> str:
    return os.environ.get("APP_WS_URL", "ws://127.0.0.1:0/ws")


def reset_environment() -> None:
    os.environ.pop("APP_WS_URL", None)
