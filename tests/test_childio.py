"""The parsing edge: what a child left in its directory, read into records, whatever else is in it."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from wsdoctor.childio import read_child_dir
from wsdoctor.records import (
    ChildProcess,
    ChildStatus,
    Context,
    Outcome,
    Plan,
    PlanResult,
    RecordStatus,
    RunOptions,
    RunRecord,
)
from wsdoctor.render.terminal import render_run

A, B = "tests/test_a.py::test_one", "tests/test_a.py::test_two"


def event(kind: str, **fields: object) -> str:
    return json.dumps({**fields, "event": kind}) + "\n"


def passed(nodeid: str) -> str:
    return event("test", test={"nodeid": nodeid, "outcome": "passed", "call": {"outcome": "passed"}})


def test_a_line_that_is_not_an_event_is_skipped_with_a_note_and_the_rest_counts(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text(
        event("collected", items=[{"nodeid": A, "path": str(tmp_path / "tests/test_a.py")}], missing=[])
        + event("start", nodeid=A) + "garbage a test printed\n" + '{"event": "test"}\n' + "[1, 2]\n"
        + passed(A) + event("start", nodeid=B) + passed(B)
        + event("finished", exitcode=0, environment={}, warnings=[], tests=2))
    output = read_child_dir(tmp_path, tmp_path)
    assert {nodeid: result.outcome for nodeid, result in output.results.items()} == {
        A: Outcome.PASSED, B: Outcome.PASSED}
    assert output.exitcode == 0
    assert output.notes == [
        "skipped a 'test' event of the wrong shape (KeyError: 'test')",
        "skipped 2 line(s) of events.jsonl that are not events, the first 'garbage a test printed'"]


def test_an_unreadable_report_is_noted_and_the_events_are_used(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text(event("start", nodeid=A) + passed(A))
    (tmp_path / "report.json").write_text("{half a report")
    output = read_child_dir(tmp_path, tmp_path)
    assert list(output.results) == [A]
    assert output.notes[0].startswith("report.json could not be read (JSONDecodeError")


def test_the_notes_are_shown_as_warnings_with_the_run() -> None:
    child = ChildProcess(ChildStatus.COMPLETED, 0, 0.1, "/p/.wsdoctor/runs/r/children/0001-suite", (),
                         notes=("skipped 1 line(s) of events.jsonl that are not events, the first 'garbage'",))
    plan = Plan(label="suite", context=Context.SUITE, collect_args=(), test_ids=())
    record = RunRecord(id="r", wsdoctor_version="0", cwd="/p", status=RecordStatus.COMPLETE,
                       options=RunOptions(paths=(), pytest_args=(), python="python"),
                       plan_results=(PlanResult(plan=plan, results=(), children=(child,)),))
    shown = io.StringIO()
    render_run(record, Console(file=shown, width=200), "run.json")
    assert ("warning: child 0001-suite: skipped 1 line(s) of events.jsonl that are not events, the first 'garbage'"
            in shown.getvalue())
