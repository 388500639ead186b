"""The parsing edge: what a child left in its directory, read into records, whatever else is in it."""

from __future__ import annotations

import json
from pathlib import Path

from wsdoctor.childio import read_child_dir
from wsdoctor.records import Outcome

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


def test_lines_read_in_one_go_count_only_when_each_is_one_event(tmp_path: Path) -> None:
    """Two objects on one line parse as a JSON list of one more item than there are lines: that
    line is not an event, and the others still are."""
    two_on_one_line = json.dumps({"event": "start", "nodeid": A}) + ", " + json.dumps({"event": "start", "nodeid": B})
    (tmp_path / "events.jsonl").write_text(two_on_one_line + "\n" + event("start", nodeid=B) + passed(B))
    output = read_child_dir(tmp_path, tmp_path)
    assert output.started == [B]
    assert list(output.results) == [B]
    assert output.notes[0].startswith("skipped 1 line(s) of events.jsonl that are not events, the first '{")
