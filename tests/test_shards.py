"""Shards and their merge, pure: the deal of files, the merged record, what the split did."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.test_gate import a_run
from wsdoctor.analysis.shards import (
    Shard,
    ShardSpec,
    deal,
    duplicated_tests,
    file_weights,
    merge_runs,
    parse_shard,
    shard_collection,
    shard_files,
    split_notes,
    suite_files,
)
from wsdoctor.codec import dump_json
from wsdoctor.records import (
    BisectResult,
    CiRecord,
    CollectedTest,
    Collection,
    CollectionError,
    RecordStatus,
    Scope,
    Verdict,
)
from wsdoctor.store import create_record_dir, save_record

FILES = {"tests/test_admin.py": 2, "tests/test_messages.py": 7, "tests/test_ratelimit.py": 2,
         "tests/test_rooms.py": 4, "tests/test_web.py": 2}
COLLECTION = Collection(rootdir="/p", inifile=None, tests=tuple(
    CollectedTest(f"{path}::test_{i}", path) for path, count in FILES.items() for i in range(count)),
    errors=(CollectionError("tests/test_broken.py", "E ImportError", False, 3),))
ADMIN, RATELIMIT = "tests/test_admin.py::test_0", "tests/test_ratelimit.py::test_0"
MESSAGES = "tests/test_messages.py::test_0"


@pytest.mark.parametrize(("text", "spec"), [("1/1", ShardSpec(1, 1)), ("2/4", ShardSpec(2, 4)), ("0/2", None),
                                            ("3/2", None), ("2", None), ("a/b", None), ("-1/2", None),
                                            ("1/1000", ShardSpec(1, 1000)), ("1/99999999999999999999", None)])
def test_parse_shard(text: str, spec: ShardSpec | None) -> None:
    assert parse_shard(text) == spec


def test_every_file_is_in_exactly_one_shard_and_the_deal_is_the_same_every_time() -> None:
    for count in (1, 2, 3, 4, 7):
        shards = [shard_files(COLLECTION, ShardSpec(k, count), {}) for k in range(1, count + 1)]
        dealt = sorted(f for files in shards for f in files)
        assert dealt == sorted([*FILES, "tests/test_broken.py"])
        assert shards == [shard_files(COLLECTION, ShardSpec(k, count), {}) for k in range(1, count + 1)]
    assert shard_files(COLLECTION, ShardSpec(7, 7), {}) == ()  # more shards than files: an empty one


def test_files_are_balanced_by_test_counts_heaviest_first() -> None:
    assert deal({"a": 7, "b": 4, "c": 2, "d": 2, "e": 2}, 2) == [("a", "e"), ("b", "c", "d")]


def test_recorded_durations_outweigh_test_counts_and_unknown_tests_count_as_the_median() -> None:
    durations = {f"tests/test_web.py::test_{i}": 30.0 for i in range(2)} | {ADMIN: 1.0, RATELIMIT: 1.0,
                                                                          "tests/test_rooms.py::test_0": 1.0}
    weights = file_weights(COLLECTION, durations)
    assert weights["tests/test_web.py"] == 60.0
    assert weights["tests/test_messages.py"] == 7 * 1.0  # the median of the known durations is 1.0
    assert shard_files(COLLECTION, ShardSpec(1, 2), durations) == ("tests/test_web.py",)


def test_a_shards_collection_keeps_its_files_tests_and_errors_in_order() -> None:
    files = shard_files(COLLECTION, ShardSpec(1, 2), {})
    narrowed = shard_collection(COLLECTION, files)
    assert {t.path for t in narrowed.tests} | {e.path for e in narrowed.errors} == set(files)
    assert suite_files(COLLECTION)[-1] == "tests/test_broken.py"


# --- merging --------------------------------------------------------------------------------


def shard(label: str, verdicts: dict[str, Verdict], bisects: tuple[BisectResult, ...] = ()) -> Shard:
    record = a_run({}, run_id=f"r{label[0]}", bisects=bisects)
    tests = tuple(CollectedTest(nodeid, nodeid.split("::")[0]) for nodeid in verdicts)
    record = dataclasses.replace(record, collection=Collection("/p", None, tests),
                                 verdicts=a_run(verdicts).verdicts)
    return Shard(label, record)


ORDER = ("tests/test_admin.py", "tests/test_messages.py", "tests/test_ratelimit.py")


def test_the_merged_record_holds_every_test_once_in_the_suites_order() -> None:
    shards = [shard("2/2", {MESSAGES: Verdict.PASS}), shard("1/2", {RATELIMIT: Verdict.FLAKY, ADMIN: Verdict.PASS})]
    merged = merge_runs(shards, "m", "/here", 2.0, ORDER)
    assert merged.collection is not None
    assert [t.nodeid for t in merged.collection.tests] == [ADMIN, MESSAGES, RATELIMIT]
    assert sorted(v.nodeid for v in merged.verdicts) == sorted([ADMIN, MESSAGES, RATELIMIT])
    assert (merged.id, merged.cwd, merged.created) == ("m", "/here", 2.0)
    assert duplicated_tests(shards) == {}
    assert duplicated_tests([*shards, shard("3/3", {ADMIN: Verdict.PASS})]) == {ADMIN: ["1/2", "3/3"]}


def test_a_split_that_separated_a_known_polluter_from_its_victim_is_said() -> None:
    shards = [shard("1/2", {ADMIN: Verdict.PASS}), shard("2/2", {RATELIMIT: Verdict.PASS})]
    merged = merge_runs(shards, "m", "/here", 2.0, ORDER)
    [note] = split_notes(shards, merged, {RATELIMIT: (ADMIN,)})
    assert note.startswith(f"the split separated {RATELIMIT} (shard 2/2) from its polluter(s) {ADMIN} (shard 1/2)")
    assert "its `pass` says nothing about that order" in note


def test_a_split_that_made_a_new_order_is_said() -> None:
    found = BisectResult(victim=RATELIMIT, verdict=Verdict.ORDER_DEPENDENT, summary="", polluters=(ADMIN,),
                         scope=Scope.TEST)
    shards = [shard("1/2", {ADMIN: Verdict.PASS, RATELIMIT: Verdict.ORDER_DEPENDENT}, (found,)),
              shard("2/2", {MESSAGES: Verdict.PASS})]
    merged = merge_runs(shards, "m", "/here", 2.0, ORDER)
    [note] = split_notes(shards, merged, {RATELIMIT: (ADMIN,)})
    assert note.startswith(f"the split made a new order: in shard 1/2, {RATELIMIT} runs after its polluter(s) {ADMIN}"
                           f" without the 1 test(s) of other shards that the whole suite runs between them "
                           f"(first: {MESSAGES})")
    together = [shard("1/1", {ADMIN: Verdict.PASS, MESSAGES: Verdict.PASS, RATELIMIT: Verdict.ORDER_DEPENDENT})]
    assert split_notes(together, merge_runs(together, "m", "/", 1.0, ORDER), {RATELIMIT: (ADMIN,)}) == []


def stored_shard(project: Path, label: str, verdicts: dict[str, Verdict],
                 status: RecordStatus = RecordStatus.COMPLETE) -> Path:
    project.mkdir(exist_ok=True)
    run_id, run_dir = create_record_dir(project)
    save_record(run_dir, dataclasses.replace(shard(label, verdicts).record, id=run_id, status=status))
    ci = CiRecord(run_id=run_id, seed=1, seed_source="--seed", shard=label)
    (run_dir / "ci.json").write_text(dump_json(ci))
    return run_dir


@pytest.mark.parametrize(("shards", "expected"), [
    ([("1/3", {ADMIN: Verdict.PASS}), ("3/3", {RATELIMIT: Verdict.PASS})], "shard(s) 2/3 missing"),
    ([("1/2", {ADMIN: Verdict.PASS}), ("1/2", {RATELIMIT: Verdict.PASS})], "shard 1/2 is given twice"),
    ([("1/2", {ADMIN: Verdict.PASS}), ("2/3", {RATELIMIT: Verdict.PASS})], "the records come from different splits"),
    ([("1/2", {ADMIN: Verdict.PASS}), ("2/2", {ADMIN: Verdict.PASS})], "1 test(s) are in more than one record"),
])
def test_merge_refuses_shards_that_would_leave_tests_ungated(tmp_path: Path,
                                                             shards: list[tuple[str, dict[str, Verdict]]],
                                                             expected: str, wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    dirs = [str(stored_shard(tmp_path / "shards", label, verdicts)) for label, verdicts in shards]
    done = wsdoctor_in_process(tmp_path, "merge", *dirs)
    assert done.exit_code == 2 and expected in done.stderr, done.stderr
    assert not (tmp_path / ".wsdoctor").exists()  # refused: no merged record


def test_merge_refuses_an_unfinished_shard(tmp_path: Path, wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    first = stored_shard(tmp_path / "shards", "1/2", {ADMIN: Verdict.PASS})
    second = stored_shard(tmp_path / "shards", "2/2", {RATELIMIT: Verdict.PASS}, RecordStatus.INTERRUPTED)
    done = wsdoctor_in_process(tmp_path, "merge", str(first), str(second))
    assert done.exit_code == 2 and "is interrupted: its tests have no verdicts" in done.stderr, done.stderr


def test_merge_of_a_whole_directory_of_shards_gates_once(tmp_path: Path, wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    stored_shard(tmp_path / "shards", "1/2", {ADMIN: Verdict.PASS})
    stored_shard(tmp_path / "shards", "2/2", {RATELIMIT: Verdict.FLAKY})
    done = wsdoctor_in_process(tmp_path, "merge", "shards", "--summary", "summary.md")
    assert done.exit_code == 1, done.stderr
    assert "merged 2 record(s) (1/2, 2/2)" in done.stdout
    assert f"fails the gate: flaky {RATELIMIT}" in done.stdout
    assert "merged from 2 record(s)" in (tmp_path / "summary.md").read_text()
