"""Room names."""

from __future__ import annotations

import re

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


def normalise(name: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", name.strip().lower()).strip("-")
    if not _SLUG.match(slug):
        raise ValueError(f"bad room name {name!r}")
    return slug
