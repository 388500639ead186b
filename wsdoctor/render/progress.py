"""Progress while children run: a rich bar on a terminal, plain phase lines elsewhere."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from wsdoctor.records import Outcome


class ProgressUI:
    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._failures = 0
        self._lock = threading.Lock()

    def note(self, text: str) -> None:
        self.console.print(text, highlight=False)

    @contextmanager
    def phase(self, title: str, total: int) -> Iterator[None]:
        self.note(f"[bold]{title}[/]: {total} test run(s)")
        progress = Progress(TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=self.console, transient=True)
        with progress:
            self._progress, self._failures = progress, 0
            self._task = progress.add_task(title, total=total)
            try:
                yield
            finally:
                self._progress = None

    def test_done(self, nodeid: str, outcome: Outcome) -> None:
        with self._lock:
            if self._progress is None or self._task is None:
                return
            if not outcome.is_good:
                self._failures += 1
            description = f"{self._failures} not passed" if self._failures else "running"
            self._progress.update(self._task, advance=1, description=description)
