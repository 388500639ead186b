"""How paths are shown to the user and written into records."""

from __future__ import annotations

from pathlib import Path


def shown_path(path: Path, cwd: Path) -> str:
    """Relative to where the user ran wsdoctor when it is below; absolute otherwise."""
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)
