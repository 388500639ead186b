"""Progress while children run: a rich bar on a terminal, a line every 10% elsewhere (CI logs)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from wsdoctor.records import Outcome

LOG_STEP = 10  # percent between two progress lines when there is no terminal


class ProgressUI:
    def __init__(self, console: Console) -> None:
        self.console = console
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._total = 0
        self._done = 0
        self._not_passed = 0
        self._lock = threading.Lock()

    def note(self, text: str) -> None:
        self.console.print(text, highlight=False)

    @contextmanager
    def phase(self, title: str, total: int | None) -> Iterator[None]:
        """A phase of child runs; ``total`` is None while the tests are still being collected."""
        self.note(f"[bold]{title}[/]" + (f": {total} test run(s)" if total is not None else ""))
        self._total, self._done, self._not_passed = total or 0, 0, 0
        if not self.console.is_terminal:
            yield
            return
        bar = Progress(TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(),
                       TimeElapsedColumn(), console=self.console, transient=True)
        with bar:
            self._bar, self._task = bar, bar.add_task(title, total=total)
            try:
                yield
            finally:
                self._bar = self._task = None

    def test_done(self, nodeid: str, outcome: Outcome) -> None:
        with self._lock:
            self._done += 1
            self._not_passed += 0 if outcome.is_good else 1
            status = f"{self._not_passed} not passed" if self._not_passed else "running"
            if self._bar is not None and self._task is not None:
                self._bar.update(self._task, advance=1, description=status)
            elif self._crossed_log_step():
                self.note(f"  {self._done}/{self._total} ({status})")

    def _crossed_log_step(self) -> bool:
        if not self._total:
            return False
        step = max(10, self._total * LOG_STEP // 100)
        return self._done % step == 0 or self._done == self._total
