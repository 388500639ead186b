"""Records on disk: kinds, the newest by creation, and records that cannot be read."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from wsdoctor.codec import dump_json, replaceable_file, write_atomic
from wsdoctor.commands.request import check_output_directory, check_output_file
from wsdoctor.exits import UsageError
from wsdoctor.records import (
    BisectOptions,
    BisectRecord,
    BisectResult,
    Owner,
    RecordKind,
    RecordStatus,
    RunOptions,
    RunRecord,
    Scope,
    StateChange,
    Verdict,
)
from wsdoctor.store import (
    RECORD_FILES,
    bisects_from,
    create_record_dir,
    find_record,
    load_record,
    load_run,
    newest_bisect_of,
    owner_alive,
    save_record,
    this_process,
)

OPTIONS = RunOptions(paths=("tests",), pytest_args=(), python="python")
VICTIM = "tests/test_b.py::test_env_clean"


def a_run(cwd: Path, record_id: str, created: float) -> RunRecord:
    record = RunRecord(id=record_id, wsdoctor_version="0", cwd=str(cwd), options=OPTIONS,
                       status=RecordStatus.COMPLETE, created=created)
    (cwd / ".wsdoctor" / "runs" / record_id).mkdir(parents=True)
    save_record(cwd / ".wsdoctor" / "runs" / record_id, record)
    return record


def a_bisect(cwd: Path, record_id: str, created: float, from_run: str | None = None) -> BisectRecord:
    result = BisectResult(victim=VICTIM, verdict=Verdict.ORDER_DEPENDENT, summary="fails after a",
                          polluters=("tests/test_a.py::test_sets_env",), scope=Scope.TEST,
                          leaked_state=(StateChange("environ", "DEMO", None, "1", "tests/test_a.py::test_sets_env"),))
    record = BisectRecord(id=record_id, wsdoctor_version="0", cwd=str(cwd), created=created,
                          options=BisectOptions(victim=VICTIM, from_run=from_run),
                          status=RecordStatus.COMPLETE, result=result)
    (cwd / ".wsdoctor" / "runs" / record_id).mkdir(parents=True)
    save_record(cwd / ".wsdoctor" / "runs" / record_id, record)
    return record


def test_a_record_survives_its_json(tmp_path: Path) -> None:
    run = a_run(tmp_path, "20260101-000000-aaaa", 1.5)
    bisect = a_bisect(tmp_path, "20260101-000001-bbbb", 2.5, from_run=run.id)
    assert load_record(tmp_path / ".wsdoctor/runs/20260101-000000-aaaa/run.json") == run
    assert load_record(tmp_path / ".wsdoctor/runs/20260101-000001-bbbb/bisect.json") == bisect


def test_the_newest_run_is_the_last_created_not_the_last_id(tmp_path: Path) -> None:
    # Two runs in one second: the id of the later one sorts first.
    a_run(tmp_path, "20260101-120000-ffff", created=100.0)
    a_run(tmp_path, "20260101-120000-0000", created=100.5)
    assert load_run(tmp_path).id == "20260101-120000-0000"


def test_a_bisect_is_not_the_last_run_but_is_the_newest_record(tmp_path: Path) -> None:
    a_run(tmp_path, "20260101-000000-aaaa", 1.0)
    a_bisect(tmp_path, "20260101-000005-bbbb", 5.0)
    assert load_run(tmp_path).id == "20260101-000000-aaaa"
    assert find_record(tmp_path).parent.name == "20260101-000005-bbbb"
    assert find_record(tmp_path, "20260101-000005-bbbb").name == RECORD_FILES[RecordKind.BISECT]


def test_a_bisect_id_is_not_a_run(tmp_path: Path) -> None:
    a_bisect(tmp_path, "20260101-000005-bbbb", 5.0)
    with pytest.raises(UsageError, match="20260101-000005-bbbb is a bisect, not a run"):
        load_run(tmp_path, "20260101-000005-bbbb")


def test_no_record_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no wsdoctor run is recorded here or above"):
        load_run(tmp_path)
    a_bisect(tmp_path, "20260101-000005-bbbb", 5.0)
    with pytest.raises(UsageError, match="no wsdoctor run is recorded here or above"):
        load_run(tmp_path)
    with pytest.raises(UsageError, match="no record 'nope'"):
        find_record(tmp_path, "nope")


def test_records_are_found_from_a_subdirectory(tmp_path: Path) -> None:
    a_run(tmp_path, "20260101-000000-aaaa", 1.0)
    (tmp_path / "tests" / "deep").mkdir(parents=True)
    assert load_run(tmp_path / "tests" / "deep").id == "20260101-000000-aaaa"


def test_bisects_of_a_run_and_of_a_victim(tmp_path: Path) -> None:
    run = a_run(tmp_path, "20260101-000000-aaaa", 1.0)
    a_bisect(tmp_path, "20260101-000002-cccc", 2.0)
    later = a_bisect(tmp_path, "20260101-000003-dddd", 3.0, from_run=run.id)
    runs = tmp_path / ".wsdoctor" / "runs"
    assert [b.id for b in bisects_from(runs, run.id)] == [later.id]
    found = newest_bisect_of(tmp_path, VICTIM)
    assert found is not None and found[1].id == later.id and found[0] == runs / later.id
    assert newest_bisect_of(tmp_path, "tests/test_x.py::test_other") is None


@pytest.mark.parametrize(("text", "expected"), [
    ("{not json", "is not a readable wsdoctor record (JSONDecodeError"),
    ("[]", "is not a readable wsdoctor record (not a JSON object)"),
    (json.dumps({"id": "x", "status": "complete"}), "written by another wsdoctor version (record schema 1"),
    (json.dumps({"schema": 2, "id": "x"}), "is not a readable wsdoctor record ($: the key 'wsdoctor_version' is"),
    ('{"id": ' + "[" * 100_000 + "]" * 100_000 + "}", "is not a readable wsdoctor record (RecursionError"),
    ("\0" * 100, "is not a readable wsdoctor record (not a JSON object)"),  # main read /dev/zero whole
    (json.dumps({"schema": 2, "id": "x", "wsdoctor_version": "0", "cwd": ".", "options": OPTIONS,
                 "status": "bisect"}, default=lambda o: json.loads(dump_json(o))),
     "($.status: \"bisect\" is not one of 'running', 'complete'"),
])
def test_a_record_that_cannot_be_read_is_one_line_that_names_it(tmp_path: Path, text: str, expected: str) -> None:
    record_dir = tmp_path / ".wsdoctor" / "runs" / "20260101-000000-dead"
    record_dir.mkdir(parents=True)
    (record_dir / "run.json").write_text(text)
    with pytest.raises(UsageError) as caught:
        load_run(tmp_path)
    assert expected in str(caught.value) and str(record_dir) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_new_record_directory_is_ignored_by_git(tmp_path: Path) -> None:
    record_id, directory = create_record_dir(tmp_path)
    assert directory == tmp_path / ".wsdoctor" / "runs" / record_id
    assert (tmp_path / ".wsdoctor" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_a_record_left_running_by_a_wsdoctor_that_is_gone_is_read_as_abandoned(tmp_path: Path) -> None:
    me = this_process()
    for owner, status in ((me, RecordStatus.RUNNING), (Owner(me.pid, me.started + 1), RecordStatus.ABANDONED),
                          (None, RecordStatus.ABANDONED)):
        record_dir = tmp_path / ".wsdoctor" / "runs" / "20260101-000000-aaaa"
        record_dir.mkdir(parents=True, exist_ok=True)
        save_record(record_dir, RunRecord(id="20260101-000000-aaaa", wsdoctor_version="0", cwd=str(tmp_path),
                                          options=OPTIONS, status=RecordStatus.RUNNING, owner=owner))
        assert load_run(tmp_path).status is status
    assert owner_alive(me) and not owner_alive(Owner(pid=2**22 + 1))


# --- what wsdoctor writes for the user: --json, --junit, --summary, report --out -------------


def test_a_file_is_replaced_whole_and_a_link_to_one_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "reports" / "latest.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["latest.json", "latest.json", "reports"]


def test_what_is_not_a_regular_file_is_written_into_not_replaced(tmp_path: Path) -> None:
    """`--json /dev/stdout`, `--json >(jq .)` (/dev/fd/N), a named pipe: on main each was replaced by
    a regular file beside it (as root, /dev/stdout itself), or failed after the whole run."""
    read_end, write_end = os.pipe()
    try:
        write_atomic(Path(f"/dev/fd/{write_end}"), "through a pipe")
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            assert pipe.read() == "through a pipe"
    finally:
        with contextlib.suppress(OSError):
            os.close(write_end)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    received: list[str] = []
    reader.start()
    write_atomic(fifo, "through a named pipe")
    reader.join(10)
    assert received == ["through a named pipe"] and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo"]
    assert replaceable_file(Path("/dev/stdout")) is None and replaceable_file(Path("/dev/null")) is None


def test_an_output_that_cannot_be_written_is_refused_before_anything_starts(tmp_path: Path) -> None:
    check_output_file(Path("/dev/stdout"), "--json", tmp_path)  # written into as it is
    (tmp_path / "a-file").write_text("")
    with pytest.raises(UsageError, match="--reports a-file is not a directory"):
        check_output_directory(Path("a-file"), "--reports", tmp_path)
    check_output_directory(Path("new/deeper"), "--reports", tmp_path)  # made when written
    with pytest.raises(UsageError, match="the directory missing does not exist"):
        check_output_file(Path("missing/x.json"), "--json", tmp_path)


def test_a_file_the_user_named_is_never_to_be_removed(tmp_path: Path) -> None:
    """`ci --durations-from /dev/null` said "remove /dev or record it again" on main."""
    named = tmp_path / "notes.json"
    named.write_text("[]")
    with pytest.raises(UsageError) as refused:
        load_record(named)
    assert "remove" not in str(refused.value) and "give a run.json or bisect.json that wsdoctor wrote" in str(
        refused.value)
