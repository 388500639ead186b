"""Connection options derived from the user's config and the feature flags."""

from __future__ import annotations

from app import client_config, flags


def connect_options() -> dict[str, object]:
    config = client_config.load()
    return {
        "uri": config.url,
        "ping_interval": config.ping_interval,
        "compression": "deflate" if flags.load_flags()["compression"] else None,
    }
