"""A suite child distributed over xdist workers, as the files it leaves are read (no process):
each worker's order, what its tests left changed, its hang; one suite order per worker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from wsdoctor.analysis.observations import observations_by_test
from wsdoctor.analysis.verdicts import CommandStyle, serial_args
from wsdoctor.childio import read_child_dir
from wsdoctor.execution.pool import by_worker
from wsdoctor.records import ChildProcess, ChildStatus, Context, Outcome, Plan, PlanResult

A, B, C, D = "tests/test_a.py::test_a", "tests/test_b.py::test_b", "tests/test_c.py::test_c", "tests/test_d.py::test_d"


def write_events(path: Path, events: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(event) + "\n" for event in events))


def finished_test(nodeid: str, outcome: str) -> dict[str, Any]:
    return {"event": "test", "test": {"nodeid": nodeid, "outcome": outcome, "call": {"outcome": outcome,
                                                                                     "duration": 0.01}}}


def collected(*ids: str) -> dict[str, Any]:
    return {"event": "collected", "items": [{"nodeid": i, "path": i.split("::")[0], "lineno": 0} for i in ids],
            "missing": [], "rootdir": "/p", "inifile": "pytest.ini"}


def distributed_child(directory: Path) -> None:
    """What a controller and its two workers leave: gw1 hung in test_d."""
    write_events(directory / "events.jsonl", [
        {"event": "xdist", "workers": 2, "dist": "loadfile", "used": True},
        {"event": "start", "nodeid": A}, {"event": "start", "nodeid": B}, finished_test(A, "passed"),
        finished_test(B, "passed"), {"event": "start", "nodeid": C}, {"event": "start", "nodeid": D},
        finished_test(C, "failed"), finished_test(D, "failed"),
        {"event": "finished", "exitcode": 1, "environment": {}, "warnings": [], "tests": 4}])
    write_events(directory / "events-gw0.jsonl", [
        collected(A, B, C, D), {"event": "import-changes", "nodeid": "tests/test_a.py", "changes": [
            ["sys.modules:yaml", None, "MagicMock"]]},
        {"event": "start", "nodeid": A}, {"event": "done", "nodeid": A,
                                          "state_changes": [["module-attr:app.ONLINE", "set len=0", "set len=1"]]},
        {"event": "start", "nodeid": C}, {"event": "done", "nodeid": C, "state_changes": []}])
    write_events(directory / "events-gw1.jsonl", [
        collected(A, B, C, D), {"event": "start", "nodeid": B}, {"event": "done", "nodeid": B, "state_changes": []},
        {"event": "start", "nodeid": D}])
    (directory / "hang-gw1.txt").write_text('Timeout (0:01:00)!\nThread 0x1:\n  File "tests/test_d.py", line 3\n')


def test_each_workers_order_changes_and_hang_are_read(tmp_path: Path) -> None:
    distributed_child(tmp_path)
    output = read_child_dir(tmp_path, Path("/p"))
    assert output.xdist == {"workers": 2, "dist": "loadfile", "used": True}
    assert output.worker_orders == {"gw0": (A, C), "gw1": (B, D)}
    assert output.collected is not None and [t.nodeid for t in output.collected] == [A, B, C, D]  # from a worker
    assert [(c.kind, c.name, c.by) for c in output.results[A].state_changes] == [("module-attr", "app.ONLINE", A)]
    assert [(c.name, c.by) for c in output.worker_imports["gw0"]] == [("yaml", "tests/test_a.py")]
    assert output.results[D].outcome is Outcome.HANG and "Timeout" in output.results[D].message
    assert output.results[C].outcome is Outcome.FAILED


def test_each_worker_is_a_suite_order_with_its_own_history(tmp_path: Path) -> None:
    distributed_child(tmp_path)
    output = read_child_dir(tmp_path, Path("/p"))
    child = ChildProcess(ChildStatus.COMPLETED, 1, 1.0, str(tmp_path), started=(A, B, C, D))
    plan = Plan("suite", Context.SUITE, ("tests",), (A, B, C, D), state_probes=True)
    run = PlanResult(plan=plan, results=tuple(output.results[i] for i in plan.test_ids), children=(child,))
    gw0, gw1 = by_worker(run, output)
    assert (gw0.plan.label, gw0.plan.test_ids, gw0.children[0].started) == ("suite gw0", (A, C), (A, C))
    assert (gw1.plan.label, gw1.plan.test_ids, [r.nodeid for r in gw1.results]) == ("suite gw1", (B, D), [B, D])
    assert gw0.plan.state_probes and [c.name for c in gw0.import_changes] == ["yaml"]
    histories = {nodeid: found[0].history for nodeid, found in observations_by_test([gw0, gw1]).items()}
    assert histories[C] != histories[D]  # C ran after A (on gw0), D after B (on gw1)
    plain = PlanResult(plan=plan, results=run.results, children=(child,))
    assert by_worker(plain, read_child_dir(tmp_path / "missing", Path("/p"))) == [plain]  # not distributed


def test_reproduce_commands_stay_in_one_process_where_xdist_is_installed() -> None:
    assert serial_args(("pytest-xdist-3.8.0", "anyio-4.0")) == ("-n", "0")
    assert serial_args(("anyio-4.0",)) == ()
    style = CommandStyle(python="python", pytest_args=("-x",), orders_dir="", serial=("-n", "0"))
    assert style.pytest("t.py::a") == "python -m pytest -p no:randomly -n 0 -x -- t.py::a"
