"""Progress while children run: a rich bar on a terminal; in CI logs (no terminal, or the CI
variable set, as every CI system sets it), a plain line at a steady pace, never a live display."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console

from wsdoctor.records import Outcome

if TYPE_CHECKING:  # rich.progress is imported only for a live bar: CI logs never need it
    from rich.progress import Progress, TaskID

LOG_EVERY = 10.0  # seconds between two progress lines in a CI log


def live_display(console: Console, environment: Mapping[str, str]) -> bool:
    """A live bar only on a terminal that is not a CI log (FORCE_COLOR makes rich think it is one)."""
    return console.is_terminal and not environment.get("CI")


class ProgressUI:
    def __init__(self, console: Console, every: float = LOG_EVERY, clock: Callable[[], float] = time.monotonic,
                 environment: Mapping[str, str] | None = None) -> None:
        self.console = console
        self.every = every
        self.clock = clock
        self.live = live_display(console, os.environ if environment is None else environment)
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._title = ""
        self._total: int | None = None
        self._done = 0
        self._not_passed = 0
        self._began = self._last_line = 0.0
        self._orders = 1
        self._lock = threading.Lock()

    def note(self, text: str) -> None:
        # In a CI log one line stays one line (rich would cut it at 80 columns, in the middle of a command).
        self.console.print(text, highlight=False, soft_wrap=not self.live)

    @contextmanager
    def phase(self, title: str, total: int | None, orders: int = 1) -> Iterator[None]:
        """A phase of child runs; ``total`` is None while the tests are still being collected (by
        ``orders`` children, each running all of them)."""
        self.note(f"[bold]{title}[/]" + (f": {total} test run(s)" if total is not None else ""))
        with self._lock:
            self._title, self._total, self._done, self._not_passed = title, total, 0, 0
            self._orders = orders
            self._began = self._last_line = self.clock()
        if not self.live:
            with self._ticking():
                yield
            self.tick(force=True)
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        bar = Progress(TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(),
                       TimeElapsedColumn(), console=self.console, transient=True)
        with bar:
            self._bar, self._task = bar, bar.add_task(title, total=total)
            try:
                yield
            finally:
                self._bar = self._task = None

    def collected(self, count: int) -> None:
        """A child collected ``count`` tests: in a phase that collects (its total unknown), the total."""
        with self._lock:
            if self._total is not None:
                return
            self._total = count * self._orders
            if self._bar is not None and self._task is not None:
                self._bar.update(self._task, total=count)

    def test_done(self, nodeid: str, outcome: Outcome) -> None:
        with self._lock:
            self._done += 1
            self._not_passed += 0 if outcome.is_good else 1
            if self._bar is not None and self._task is not None:
                status = f"{self._not_passed} not passed" if self._not_passed else "running"
                self._bar.update(self._task, advance=1, description=status)

    def tick(self, force: bool = False) -> None:
        """In a CI log: a line when ``every`` seconds passed since the last one (or ``force``)."""
        with self._lock:
            now = self.clock()
            if self.live or not (force or now - self._last_line >= self.every):
                return
            self._last_line = now
            done = f"{self._done}/{self._total}" if self._total is not None else f"{self._done}"
            line = (f"  {self._title}: {done} test run(s) done, {self._not_passed} not passed so far, "
                    f"{now - self._began:.0f} s")
        self.console.print(line, highlight=False, markup=False, soft_wrap=True)  # one line a CI log keeps whole

    @contextmanager
    def _ticking(self) -> Iterator[None]:
        stop = threading.Event()

        def tick_until_stopped() -> None:
            while not stop.wait(min(1.0, self.every)):
                self.tick()

        ticker = threading.Thread(target=tick_until_stopped, name="wsdoctor-progress", daemon=True)
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join()
