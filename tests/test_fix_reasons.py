"""`wsdoctor fix` on bisects for which no patch can be made: the reason is said, exit 1, and nothing is
copied or run (the command line in this process, from records made by hand; no child starts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wsdoctor import records
from wsdoctor.store import create_record_dir, save_record

VICTIM = "tests/test_b.py::test_victim"
REGISTRY = records.StateChange("module-attr", "app.registry.HANDLERS", "dict len=2", "dict len=2",
                               by="tests/test_c.py")


def bisected(project: Path, result: records.BisectResult) -> Path:
    record_id, directory = create_record_dir(project)
    tests = tuple(records.CollectedTest(nodeid=n, path=n.split("::")[0])
                  for n in ("tests/test_a.py::test_a", "tests/test_c.py::test_c", VICTIM))
    save_record(directory, records.BisectRecord(
        id=record_id, wsdoctor_version="0", cwd=str(project), created=1.0, status=records.RecordStatus.COMPLETE,
        options=records.BisectOptions(victim=VICTIM), result=result,
        collection=records.Collection(rootdir=str(project), inifile=None, tests=tests)))
    return directory


@pytest.mark.parametrize(("result", "reason"), [
    (records.BisectResult(victim=VICTIM, verdict=records.Verdict.BRITTLE, summary="s",
                          state_setters=("tests/test_a.py::test_a",)),
     "brittle: it passes only after tests/test_a.py::test_a; the patch belongs in the victim"),
    (records.BisectResult(victim=VICTIM, verdict=records.Verdict.NOT_REPRODUCED, summary="s"),
     "the bisect proved no polluter (not-reproduced): nothing to fix"),
    (records.BisectResult(victim=VICTIM, verdict=records.Verdict.ORDER_DEPENDENT, summary="s",
                          polluters=("tests/test_c.py",), scope=records.Scope.FILE_IMPORT, leaked_state=(REGISTRY,)),
     "importing tests/test_c.py changes app.registry.HANDLERS at module level; fix moves only sys.modules stubs"),
    (records.BisectResult(victim=VICTIM, verdict=records.Verdict.ORDER_DEPENDENT, summary="s",
                          polluters=("tests/test_a.py::test_a",), scope=records.Scope.TEST),
     "the probes named no state the polluters leave changed"),
])
def test_a_cause_without_a_patch_is_said_with_exit_1_and_nothing_is_run(
        tmp_path: Path, result: records.BisectResult, reason: str, wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    directory = bisected(tmp_path, result)
    done = wsdoctor_in_process(tmp_path, "fix")
    assert done.exit_code == 1, done.stderr
    assert reason in " ".join(done.stderr.split()) and done.stdout == ""
    assert "copying the project" not in done.stderr
    assert (directory / "fix.json").is_file()
