"""Process-wide settings; the app factory calls configure() once at startup."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    server_name: str = "wsgate"
    heartbeat_interval: float = 20.0
    max_message_size: int = 64 * 1024


_settings: Settings | None = None


def configure(**overrides) -> Settings:
    global _settings
    _settings = Settings(**overrides)

    from app import handlers
    from app.router import router

    handlers.install(router, _settings)
    return _settings


def get_settings() -> Settings:
    if _settings is None:
        raise RuntimeError("settings not configured; call app.settings.configure() at startup")
    return _settings
