"""Read what a child left in its directory into typed records (the parsing edge)."""

from __future__ import annotations

import ast
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wsdoctor.child import protocol
from wsdoctor.child.protocol import keep_ends
from wsdoctor.paths import shown_path
from wsdoctor.records import CollectedTest, Outcome, StateChange, TestResult, Versions
from wsdoctor.text import first_line, last_line, raised_at

KEPT_AT_EACH_END = 10_000  # of a failure's text in the record: its head and its tail
_OUTCOMES = {o.value: o for o in Outcome}


@dataclass(slots=True)
class ChildOutput:
    """Everything one child reported, whether or not it lived to the end."""

    collected: tuple[CollectedTest, ...] | None = None  # None: collection never finished
    rootdir: str | None = None
    inifile: str | None = None
    missing: tuple[str, ...] = ()
    started: list[str] = field(default_factory=list)
    results: dict[str, TestResult] = field(default_factory=dict)
    collect_errors: dict[str, str] = field(default_factory=dict)
    exitcode: int | None = None  # pytest's, from report.json; None if it never got there
    versions: Versions | None = None
    warnings: tuple[dict[str, Any], ...] = ()
    hang_dump: str = ""
    import_changes: list[StateChange] = field(default_factory=list)
    tests_reported: int | None = None  # by the finished event: how many tests report.json holds
    xdist: dict[str, Any] | None = None  # the project's pytest-xdist distribution, and whether it was used
    worker_orders: dict[str, tuple[str, ...]] = field(default_factory=dict)  # xdist worker -> its order
    worker_imports: dict[str, tuple[StateChange, ...]] = field(default_factory=dict)  # what its imports changed
    notes: list[str] = field(default_factory=list)  # what could not be read, said once each
    stopped: str = ""  # why the session ended before its tests did (INTERNALERROR, interrupted), one line
    collecting: str = ""  # the file being collected last (the one to blame when collection hung)
    threads: tuple[dict[str, Any], ...] = ()  # non-daemon threads alive when the session finished


class EventTail:
    """Reads events.jsonl incrementally while the child is still writing it.

    A line that is not an event (a test that wrote into the file, a disk that filled up) is
    skipped and noted: the events around it still count.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.partial = b""
        self.skipped: list[str] = []  # the lines that were not events, shortened

    def read_new(self) -> list[dict[str, Any]]:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return []
        self.offset += len(chunk)
        lines = (self.partial + chunk).split(b"\n")
        self.partial = lines.pop()
        lines = [line for line in lines if line.strip()]
        return _all_events(lines) or self._each_event(lines)

    def _each_event(self, lines: list[bytes]) -> list[dict[str, Any]]:
        """One line at a time: the events among lines that are not all events."""
        events = []
        for line in lines:
            if line.strip():
                event = _event(line)
                if event is None:
                    self.skipped.append(line[:80].decode("utf-8", errors="replace"))
                else:
                    events.append(event)
        return events


def _all_events(lines: list[bytes]) -> list[dict[str, Any]] | None:
    """The lines as events, parsed in one go (thousands of lines a second come from a child): None
    if any line is not an event."""
    if not lines:
        return []
    if not all(line.startswith(b"{") and line.rstrip().endswith(b"}") for line in lines):
        return None  # each line one object: the commas put between them stay between them
    try:
        events = json.loads(b"[" + b",".join(lines) + b"]")
    except ValueError:
        return None
    good = len(events) == len(lines) and all(
        isinstance(event, dict) and isinstance(event.get("event"), str) for event in events)
    return events if good else None


def _event(line: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and isinstance(event.get("event"), str) else None


def apply_events(output: ChildOutput, events: list[dict[str, Any]], cwd: Path) -> list[dict[str, Any]]:
    """Apply each event; one whose fields are not what its kind needs is skipped and noted.
    Returns the events applied."""
    applied = []
    for event in events:
        try:
            apply_event(output, event, cwd)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            output.notes.append(f"skipped a {event['event']!r} event of the wrong shape "
                                f"({type(error).__name__}: {error})")
            continue
        applied.append(event)
    return applied


def apply_event(output: ChildOutput, event: dict[str, Any], cwd: Path) -> None:
    kind = event.get("event")
    if kind == "collected":
        items = event["items"]
        shown = {path: shown_path(Path(path), cwd) for path in {item["path"] for item in items}}
        output.collected = tuple(CollectedTest(nodeid=item["nodeid"], path=shown[item["path"]],
                                               lineno=item.get("lineno")) for item in items)
        output.missing = tuple(event.get("missing", ()))
        output.rootdir = event.get("rootdir")
        output.inifile = event.get("inifile")
    elif kind == "start":
        output.started.append(event["nodeid"])
    elif kind == "collecting":
        output.collecting = shown_path(Path(event["path"]), cwd)
    elif kind == "test":
        result = test_result(event["test"])
        output.results[result.nodeid] = result
    elif kind == "collect-error":
        output.collect_errors[event["nodeid"]] = event.get("longrepr", "")
    elif kind == "import-changes":
        output.import_changes += state_changes(event["changes"], by=event["nodeid"])
    elif kind == "stopped":
        output.stopped = stop_reason(str(event["why"]), output.rootdir or str(cwd))
    elif kind == "finished":
        _apply_report_summary(output, event)
        output.tests_reported = int(event["tests"])
        output.threads = tuple(event.get("threads") or ())
        if event.get("stopped") and not output.stopped:
            output.stopped = stop_reason(str(event["stopped"]), output.rootdir or str(cwd))
    elif kind == "xdist":
        output.xdist = {key: value for key, value in event.items() if key != "event"}


def stop_reason(why: str, root: str) -> str:
    """Why a session ended before its tests did, in one line: for an INTERNALERROR, the error and
    the innermost frame that raised it (the hook of a plugin or a conftest.py, most often)."""
    if not why.startswith("INTERNALERROR"):
        return first_line(why, limit=300)
    error, where = raised_at(why, root)
    return f"pytest stopped with INTERNALERROR: {error}" + (f", raised in {where}" if where else "")


def _apply_report_summary(output: ChildOutput, report: dict[str, Any]) -> None:
    """What a finished child says of itself, from its finished event or its report.json."""
    output.exitcode = int(report["exitcode"])
    output.versions = _versions(report.get("environment", {}))
    output.warnings = tuple(report.get("warnings", ()))


def test_result(entry: dict[str, Any]) -> TestResult:
    """A TestResult from one test entry of pytest-json-report's format."""
    outcome = _OUTCOMES.get(entry.get("outcome", ""), Outcome.ERROR)
    stages = [entry[w] for w in ("setup", "call", "teardown") if isinstance(entry.get(w), dict)]
    failing = [s for s in stages if s.get("outcome") == "failed"] or [
        s for s in stages if s.get("longrepr")]
    message, longrepr = "", ""
    if failing:
        longrepr = keep_ends(str(failing[0].get("longrepr", "")), KEPT_AT_EACH_END)
        crash = failing[0].get("crash") or {}
        message = str(crash.get("message") or _skip_reason(longrepr) or last_line(longrepr))
    duration = sum(float(s.get("duration") or 0.0) for s in stages)
    return TestResult(nodeid=entry["nodeid"], outcome=outcome, duration=duration,
                      message=first_line(message, limit=500), longrepr=longrepr,
                      state_changes=state_changes(entry.get("state_changes", ()), by=entry["nodeid"]))


def state_changes(raw: Any, by: str) -> tuple[StateChange, ...]:
    """The probe's [key, before, after] triples as records."""
    changes = []
    for key, before, after in raw:
        kind, _, name = str(key).partition(":")
        changes.append(StateChange(kind=kind, name=name, before=before, after=after, by=by))
    return tuple(changes)


def _skip_reason(longrepr: str) -> str:
    """A skip's longrepr is the text of a (path, lineno, reason) tuple."""
    try:
        value = ast.literal_eval(longrepr)
    except (ValueError, SyntaxError):
        return ""
    return str(value[2]) if isinstance(value, tuple) and len(value) == 3 else ""


def read_child_dir(directory: Path, cwd: Path, output: ChildOutput | None = None,
                   tail: EventTail | None = None) -> ChildOutput:
    """Parse a finished (or dead) child's directory, continuing what was read while it ran."""
    output = output if output is not None else ChildOutput()
    tail = tail if tail is not None else EventTail(directory / protocol.EVENTS_FILE)
    apply_events(output, tail.read_new(), cwd)
    if tail.skipped:
        output.notes.append(f"skipped {len(tail.skipped)} line(s) of {protocol.EVENTS_FILE} that are not events, "
                            f"the first {tail.skipped[0]!r}")
    report_path = directory / protocol.REPORT_FILE
    if output.tests_reported is None or output.tests_reported > len(output.results):
        _read_report(report_path, output)  # the events missed something: the report has it all
    _attach_warnings(output)
    hang = directory / protocol.HANG_FILE
    output.hang_dump = hang.read_text(encoding="utf-8", errors="replace") if hang.exists() else ""
    for events in sorted(directory.glob(protocol.WORKER_EVENTS.format(worker="*"))):
        _read_worker(directory, events, output, cwd)
    return output


def _read_worker(directory: Path, events: Path, output: ChildOutput, cwd: Path) -> None:
    """One xdist worker's events: its order, what its tests and imports left changed, its collection
    (the controller collects nothing), and the test it hung in."""
    worker = events.name[len("events-"):-len(".jsonl")]
    order: list[str] = []
    done: set[str] = set()
    imports: list[StateChange] = []
    for event in EventTail(events).read_new():
        kind = event.get("event")
        if kind == "collected" and output.collected is None:
            apply_event(output, event, cwd)
        elif kind == "start":
            order.append(event["nodeid"])
        elif kind == "done":
            done.add(event["nodeid"])
            _attach_changes(output, event["nodeid"], state_changes(event.get("state_changes", ()), event["nodeid"]))
        elif kind == "import-changes":
            imports += state_changes(event["changes"], by=event["nodeid"])
    output.worker_orders[worker] = tuple(order)
    output.worker_imports[worker] = tuple(imports)
    hang = directory / protocol.WORKER_HANG.format(worker=worker)
    dump = hang.read_text(encoding="utf-8", errors="replace") if hang.exists() else ""
    unfinished = [nodeid for nodeid in order if nodeid not in done]
    if dump.strip() and unfinished:  # faulthandler ended the worker in this test: xdist says "crashed"
        nodeid = unfinished[-1]
        output.results[nodeid] = TestResult(nodeid=nodeid, outcome=Outcome.HANG, message=first_line(dump),
                                            longrepr=keep_ends(dump, KEPT_AT_EACH_END))


def _attach_changes(output: ChildOutput, nodeid: str, changes: tuple[StateChange, ...]) -> None:
    result = output.results.get(nodeid)
    if result is not None and changes:
        output.results[nodeid] = dataclasses.replace(result, state_changes=changes)


def _read_report(path: Path, output: ChildOutput) -> None:
    if not path.exists():
        return
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        _apply_report_summary(output, report)
        for entry in report.get("tests", ()):
            if entry["nodeid"] not in output.results:
                output.results[entry["nodeid"]] = test_result(entry)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        output.notes.append(f"{path.name} could not be read ({type(error).__name__}: {error}); the events were used")


def _attach_warnings(output: ChildOutput) -> None:
    by_test: dict[str, list[str]] = {}
    for warning in output.warnings:
        text = f"{warning.get('category', 'Warning')}: {warning.get('message', '')}"
        by_test.setdefault(str(warning.get("nodeid", "")), []).append(text)
    for nodeid, texts in by_test.items():
        result = output.results.get(nodeid)
        if result is not None:
            output.results[nodeid] = dataclasses.replace(result, warnings=tuple(dict.fromkeys(texts)))


def _versions(env: dict[str, Any]) -> Versions:
    return Versions(python=str(env.get("Python", "")), pytest=str(env.get("pytest", "")),
                    platform=str(env.get("Platform", "")),
                    executable=str(env.get("executable", "")),
                    plugins=tuple(env.get("Plugins", ())),
                    packages=tuple(sorted((str(k), str(v)) for k, v in env.get("Packages", {}).items())))
