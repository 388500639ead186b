"""What the user asked of a command: its options (which its record keeps), and how it was asked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

Options = TypeVar("Options")


@dataclass(frozen=True, slots=True)
class Request(Generic[Options]):
    options: Options
    cwd: Path  # where wsdoctor was run: paths and records are found from here
    python_given: bool = False  # --python was given: reproduce commands name that interpreter
    json_path: Path | None = None  # --json FILE
