"""Feature flags the ops team can override with a JSON file next to the service."""

from __future__ import annotations

import json
from pathlib import Path

FLAGS_FILE = Path("feature_flags.json")  # relative: the service runs from its checkout
DEFAULTS = {"compression": True, "presence": True, "typing_indicators": False}


def load_flags() -> dict[str, bool]:
    if FLAGS_FILE.exists():
        return {**DEFAULTS, **json.loads(FLAGS_FILE.read_text())}
    return dict(DEFAULTS)


def export_flags(overrides: dict[str, bool]) -> Path:
    FLAGS_FILE.write_text(json.dumps({**DEFAULTS, **overrides}, indent=2))
    return FLAGS_FILE
