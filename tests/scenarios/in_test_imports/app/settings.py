"""Settings read once from the environment and cached, as FastAPI's docs recommend."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    ws_url: str
    max_connections: int


@lru_cache
def get_settings() -> Settings:
    return Settings(
        ws_url=os.environ.get("APP_WS_URL", "ws://127.0.0.1:8000/ws"),
        max_connections=int(os.environ.get("APP_MAX_CONNECTIONS", "100")),
    )
