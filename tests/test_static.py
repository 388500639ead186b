"""Static checks of test files: each habit that hides a failure or pollutes, found at its line."""

from __future__ import annotations

import io
import textwrap

import pytest
from rich.console import Console

from wsdoctor.analysis.static import scan_source
from wsdoctor.records import Outcome
from wsdoctor.render.progress import ProgressUI

SOURCE = textwrap.dedent("""\
    import os
    import sys
    from unittest import mock

    sys.modules["websockets"] = mock.MagicMock()

    def test_called_once():
        m = mock.Mock()
        assert m.send_json.called_once()

    def test_always_true():
        assert True

    def test_length(items=()):
        assert len(items) >= 0

    def test_environ():
        os.environ["MODE"] = "test"

    def test_swallows():
        try:
            1 / 0
        except Exception:
            pass

    def test_guarded(flag=False):
        if flag:
            assert flag

    def test_fine():
        assert 1 + 1 == 2
    """)


def test_every_habit_is_found_at_its_line() -> None:
    found = [(f.id, f.line) for f in scan_source(SOURCE, "tests/test_x.py")]
    assert found == [("sys-modules-assignment", 5), ("called-once-assertion", 9), ("assert-true", 12),
                     ("len-ge-zero", 15), ("environ-assignment", 18), ("swallowed-exception", 23),
                     ("guarded-assertion", 26)]
    assert scan_source(SOURCE, "tests/test_x.py")[1].code == "assert m.send_json.called_once()"


@pytest.mark.parametrize("source", ["def test_(:\n", "", "def test_fine():\n    assert 1 == 1\n"])
def test_a_file_that_does_not_parse_or_is_clean_has_no_finding(source: str) -> None:
    assert scan_source(source, "t.py") == ()


def test_progress_without_a_terminal_is_a_line_every_tenth() -> None:
    console = Console(file=io.StringIO(), width=120, color_system=None)
    ui = ProgressUI(console)
    with ui.phase("running the suite", 20):
        for n in range(20):
            ui.test_done(f"t.py::test_{n}", Outcome.FAILED if n == 3 else Outcome.PASSED)
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines == ["running the suite: 20 test run(s)", "  10/20 (1 not passed)", "  20/20 (1 not passed)"]
