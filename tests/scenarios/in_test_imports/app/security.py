"""Origin checks for the WebSocket handshake, configured from the environment."""

import os

DEFAULT_ORIGINS = "https://app.example.com,https://admin.example.com"


def allowed_origins() -> list[str]:
    return os.environ.get("WS_ALLOWED_ORIGINS", DEFAULT_ORIGINS).split(",")


def origin_allowed(origin: str) -> bool:
    allowed = allowed_origins()
    return "*" in allowed or origin in allowed
