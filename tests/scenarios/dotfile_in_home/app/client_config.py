"""The user's client settings, kept in an INI file in their home directory."""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path

RC_NAME = ".wsclientrc"


@dataclass(frozen=True)
class ClientConfig:
    url: str = "wss://api.example.com/ws"
    reconnect: bool = True
    ping_interval: float = 20.0


def rc_path() -> Path:
    return Path.home() / RC_NAME


def load() -> ClientConfig:
    path = rc_path()
    if not path.exists():
        return ClientConfig()
    parser = configparser.ConfigParser()
    parser.read(path)
    section = parser["client"]
    return ClientConfig(
        url=section.get("url", ClientConfig.url),
        reconnect=section.getboolean("reconnect", ClientConfig.reconnect),
        ping_interval=section.getfloat("ping_interval", ClientConfig.ping_interval),
    )


def save(config: ClientConfig) -> Path:
    parser = configparser.ConfigParser()
    parser["client"] = {"url": config.url, "reconnect": str(config.reconnect).lower(),
                        "ping_interval": str(config.ping_interval)}
    path = rc_path()
    with path.open("w") as handle:
        parser.write(handle)
    return path
