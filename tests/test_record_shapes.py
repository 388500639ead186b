"""A record on disk of the wrong shape is bad input: one line that names the file, exit 2, never exit 3.

Every structural mutation of a full run record and a full bisect record (a key removed, a value
of another type, the whole document replaced) is read by the commands that read records.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from wsdoctor import records as r
from wsdoctor.analysis.insights import insights_for
from wsdoctor.codec import dump_json
from wsdoctor.commands.report import load_playbooks
from wsdoctor.evidence import from_bisect, from_run
from wsdoctor.exits import UsageError
from wsdoctor.render.report import json_text
from wsdoctor.render.terminal import render_run
from wsdoctor.store import load_record

A, B = "tests/test_a.py::test_sets_flag", "tests/test_b.py::test_flag_clean"
FLAG = r.StateChange(kind="module-attr", name="app.FLAGS", before="{}", after="{'beta': True}", by=A)
COLLECTION = r.Collection(rootdir="/p", inifile="/p/pytest.ini",
                        tests=(r.CollectedTest(A, "tests/test_a.py", 1), r.CollectedTest(B, "tests/test_b.py", 3)),
                        errors=(r.CollectionError("tests/test_c.py", "E   ImportError", False, 2),))
VERSIONS = r.Versions(python="3.11.7", pytest="9.2.0", platform="Linux", executable="/usr/bin/python3",
                    plugins=("anyio-4.10.0",), packages=(("anyio", "4.10.0"),))
SUITE = r.PlanResult(
    plan=r.Plan(label="suite", context=r.Context.SUITE, collect_args=("tests",), test_ids=(A, B), state_probes=True),
    results=(r.TestResult(A, r.Outcome.PASSED, 0.1, state_changes=(FLAG,)),
             r.TestResult(B, r.Outcome.FAILED, 0.2, "assert 'closed' == 'up'", "E   assert 'closed' == 'up'",
                        warnings=("UserWarning: careful",))),
    children=(r.ChildProcess(r.ChildStatus.COMPLETED, 1, 0.5, "/p/.wsdoctor/runs/r/children/0001-suite", (A, B)),),
    collect_errors=("tests/test_c.py",), missing=(), import_changes=(FLAG,))
BISECTED = r.BisectResult(victim=B, verdict=r.Verdict.ORDER_DEPENDENT, summary=f"{B} fails after {A}",
                          polluters=(A,), scope=r.Scope.TEST, leaked_state=(FLAG,), confidence=r.Confidence.HIGH,
                          confidence_detail="2 of 2", trials=3, seconds=1.5, reproduce=("python -m pytest  # fails",),
                          steps=("suspect: yes",), failure=SUITE.results[1])
RUN = r.RunRecord(
    id="20260101-000000-aaaa", wsdoctor_version="0.1.0", cwd="/p", status=r.RecordStatus.COMPLETE, created=1.0,
    options=r.RunOptions(paths=("tests",), pytest_args=("-q",), python="python", shuffle=3, workers=2),
    versions=VERSIONS, collection=COLLECTION, plan_results=(SUITE,), seconds=2.0, children_started=1,
    verdicts=(r.TestVerdict(A, r.Verdict.PASS, "passed in every run"),
              r.TestVerdict(B, r.Verdict.ORDER_DEPENDENT, "fails in the suite order",
                          observations=(r.Observation("suite", r.Context.SUITE, r.Outcome.FAILED, "assert", "abc"),
                                        r.Observation("alone", r.Context.ALONE, r.Outcome.PASSED, "", "def")),
                          reproduce=("python -m pytest  # fails",), detail="")),
    bisects=(BISECTED,))
BISECT = r.BisectRecord(id="20260101-000001-bbbb", wsdoctor_version="0.1.0", cwd="/p", created=2.0,
                      options=r.BisectOptions(victim=B, paths=("tests",), from_run=None, order_file="o.txt"),
                      status=r.RecordStatus.COMPLETE, collection=COLLECTION, versions=VERSIONS, result=BISECTED)
WRONG_TYPES: dict[type, list[Any]] = {
    str: [5, None, ["x"]], int: ["x", None, 1.5], float: ["x", None], bool: ["x", None, 0],
    list: ["x", {}, None], dict: ["x", [], None], type(None): [{}, ["x"]]}


def paths(data: Any, where: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every place in a JSON document (of a list, its first item only) and the value there."""
    yield where, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from paths(value, (*where, key))
    elif isinstance(data, list) and data:
        yield from paths(data[0], (*where, 0))


def replaced(document: Any, where: tuple[Any, ...], value: Any, delete: bool = False) -> Any:
    if not where:
        return value
    changed = copy.deepcopy(document)
    parent = changed
    for step in where[:-1]:
        parent = parent[step]
    if delete:
        del parent[where[-1]]
    else:
        parent[where[-1]] = value
    return changed


def mutations(record: Any) -> list[tuple[str, Any]]:
    document = json.loads(dump_json(record))
    found = []
    for where, value in paths(document):
        name = "$" + "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in where)
        for wrong in WRONG_TYPES[type(value)]:
            found.append((f"{name}={json.dumps(wrong)}", replaced(document, where, wrong)))
        if where and isinstance(where[-1], str):
            found.append((f"{name} removed", replaced(document, where, None, delete=True)))
    return found


RUN_MUTATIONS = mutations(RUN)
BISECT_MUTATIONS = mutations(BISECT)
TABLE = [("run.json", name, document) for name, document in RUN_MUTATIONS] + [
    ("bisect.json", name, document) for name, document in BISECT_MUTATIONS]
PLAYBOOKS = load_playbooks(Path("."), ())


def store(project: Path, record_id: str, name: str, document: Any) -> Path:
    directory = project / ".wsdoctor" / "runs" / record_id
    directory.mkdir(parents=True)
    (directory / name).write_text(json.dumps(document))
    return directory


def assert_names_the_file(message: str, directory: Path) -> None:
    assert "\n" not in message and str(directory) in message and f"remove {directory}" in message, message


def test_the_table_covers_every_field_of_both_kinds() -> None:
    assert len(RUN_MUTATIONS) > 300 and len(BISECT_MUTATIONS) > 150


@pytest.mark.parametrize(("file_name", "name", "document"), TABLE, ids=[f"{f}:{n}" for f, n, _ in TABLE])
def test_a_record_of_the_wrong_shape_is_refused_or_read_whole(file_name: str, name: str, document: Any,
                                                              tmp_path: Path) -> None:
    """Refused in one line that names the file; or, where the mutation left a valid record (an optional
    key removed), shown and reported without an error."""
    directory = store(tmp_path, "20260101-000000-aaaa", file_name, document)
    try:
        record = load_record(directory / file_name)
    except UsageError as refused:
        assert_names_the_file(str(refused), directory)
        return
    if isinstance(record, r.RunRecord):
        render_run(record, Console(file=io.StringIO(), width=200), "run.json")
        evidence = from_run(record, [])
    else:
        evidence = from_bisect(record) if record.result is not None else []
    json_text(insights_for(evidence, PLAYBOOKS, {}))


@pytest.mark.parametrize(("file_name", "document"), [
    ("run.json", []), ("run.json", None), ("run.json", "x"), ("run.json", 5),
    ("run.json", {**json.loads(dump_json(RUN)), "id": 5}), ("run.json", {**json.loads(dump_json(RUN)), "options": "x"}),
    ("run.json", {**json.loads(dump_json(RUN)), "verdicts": {"a": 1}}),
    ("bisect.json", {**json.loads(dump_json(BISECT)), "result": []}),
])
def test_the_commands_that_read_records_say_so_in_one_line_and_exit_2(file_name: str, document: Any, tmp_path: Path,
                                                                       wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    directory = store(tmp_path, "20260101-000000-aaaa", file_name, document)
    commands = [("report",), ("report", "20260101-000000-aaaa")] + [("run", "--last")] * (file_name == "run.json")
    for command in commands:
        done = wsdoctor_in_process(tmp_path, *command)
        assert done.exit_code == 2, done.stderr
        [line] = done.stderr.strip().splitlines()
        assert_names_the_file(line, directory)
