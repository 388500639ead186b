"""Progress in CI logs: a plain line at a steady pace (done/total, not passed so far, elapsed),
never rich's live display; a bar on a terminal."""

from __future__ import annotations

import io

from rich.console import Console

from wsdoctor.records import Outcome
from wsdoctor.render.progress import ProgressUI, live_display


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def log_console(**kwargs: object) -> Console:
    return Console(file=io.StringIO(), width=200, color_system=None, **kwargs)  # type: ignore[arg-type]


def lines_of(console: Console) -> list[str]:
    return console.file.getvalue().splitlines()  # type: ignore[attr-defined]


def test_without_a_terminal_a_line_comes_at_a_steady_pace_and_at_the_end() -> None:
    clock, console = Clock(), log_console()
    ui = ProgressUI(console, every=10.0, clock=clock, environment={})
    with ui.phase("running the suite", 20):
        for n in range(5):
            ui.test_done(f"t.py::test_{n}", Outcome.FAILED if n == 3 else Outcome.PASSED)
        ui.tick()  # too soon: nothing
        clock.now += 10.5
        ui.tick()
        clock.now += 4
        ui.tick()  # too soon again
        for n in range(5, 20):
            ui.test_done(f"t.py::test_{n}", Outcome.PASSED)
        clock.now += 30
    assert lines_of(console) == [
        "running the suite: 20 test run(s)",
        "  running the suite: 5/20 test run(s) done, 1 not passed so far, 10 s",
        "  running the suite: 20/20 test run(s) done, 1 not passed so far, 44 s"]


def test_while_the_suite_child_collects_the_total_comes_with_its_collection() -> None:
    clock, console = Clock(), log_console()
    ui = ProgressUI(console, every=5.0, clock=clock, environment={})
    with ui.phase("collecting and running the suite", None):
        clock.now += 6
        ui.tick()
        ui.collected(930)
        ui.test_done("t.py::a", Outcome.PASSED)
        ui.collected(1)  # a later child's collection does not change the phase's total
        clock.now += 6
        ui.tick()
    assert lines_of(console)[1:3] == [
        "  collecting and running the suite: 0 test run(s) done, 0 not passed so far, 6 s",
        "  collecting and running the suite: 1/930 test run(s) done, 0 not passed so far, 12 s"]


def test_a_live_bar_only_on_a_terminal_that_is_not_a_ci_log() -> None:
    terminal = log_console(force_terminal=True)
    assert live_display(terminal, {})
    assert not live_display(terminal, {"CI": "true"})  # FORCE_COLOR in CI makes rich believe in a terminal
    assert not live_display(log_console(), {})
    console = log_console(force_terminal=True)
    ui = ProgressUI(console, every=0.0, environment={"CI": "true"})
    with ui.phase("second look", 2):
        ui.test_done("t.py::a", Outcome.PASSED)
    assert "\x1b[?25l" not in console.file.getvalue()  # type: ignore[attr-defined]  # no live display (cursor hiding)
    assert lines_of(console)[-1].startswith("  second look: 1/2 test run(s) done")


def test_in_a_ci_log_a_note_is_one_line_however_long() -> None:
    # A CI log is no terminal: rich would cut a note at 80 columns, in the middle of the command it gives.
    console = Console(file=io.StringIO(), width=80, color_system=None)
    note = "shuffled order: seed 2058671174 (from GITHUB_RUN_ID 12345/1); `wsdoctor ci --seed 2058671174` repeats it"
    ProgressUI(console, environment={"CI": "true"}).note(note)
    assert lines_of(console) == [note]
