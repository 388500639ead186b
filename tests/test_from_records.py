"""From plan results to verdicts, and from records to what a user reads, without a child process.

The plan results are made by hand as the children would have reported them; the records are
stored where wsdoctor keeps them, and the command line runs in this process.
"""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from wsdoctor.analysis.verdicts import CommandStyle, all_verdicts, needs_confirmation, order_files
from wsdoctor.exits import ExitCode, run_exit
from wsdoctor.records import (
    AliveThread,
    BisectOptions,
    BisectRecord,
    BisectResult,
    ChildProcess,
    ChildStatus,
    CollectedTest,
    Collection,
    CollectionError,
    Confidence,
    Context,
    Outcome,
    Plan,
    PlanResult,
    RecordStatus,
    RunOptions,
    RunRecord,
    Scope,
    StateChange,
    TestResult,
    Verdict,
)
from wsdoctor.render.bisect_view import render_bisect
from wsdoctor.render.json_out import run_document
from wsdoctor.render.terminal import render_run
from wsdoctor.store import save_record

A, B, HANGS = "tests/test_a.py::test_sets_flag", "tests/test_b.py::test_flag_clean", "tests/test_b.py::test_waits"
COLLECTION = Collection(rootdir="/p", inifile=None, tests=(
    CollectedTest(A, "tests/test_a.py"), CollectedTest(B, "tests/test_b.py"), CollectedTest(HANGS, "tests/test_b.py")),
    errors=(CollectionError(path="tests/test_c.py", message="E   ImportError: no module named app.gone",
                            collects_alone=False, tests_in_file=4),))
OPTIONS = RunOptions(paths=("tests",), pytest_args=("-m", "not slow"), python="python")
STYLE = CommandStyle(python="python", pytest_args=OPTIONS.pytest_args, orders_dir=".wsdoctor/runs/r/orders")
FLAG = StateChange(kind="module-attr", name="app.FLAGS", before="dict len=1 {'beta': False}",
                   after="dict len=1 {'beta': True}", by=A)
HANG_DUMP = ('Timeout (0:01:00)!\nThread 0x1 (most recent call first):\n'
             '  File "/usr/lib/python3.11/socket.py", line 10 in recv\n'
             '  File "/p/tests/test_b.py", line 7 in test_waits\n'
             '  File "/venv/site-packages/_pytest/python.py", line 1 in pytest_pyfunc_call\n')


def executed(label: str, context: Context, outcomes: dict[str, Outcome], collect_args: tuple[str, ...] = ("tests",),
             attempt: int = 0) -> PlanResult:
    ids = tuple(outcomes)
    results = tuple(TestResult(nodeid, outcome, message="assert 'closed' == 'up'" if outcome is Outcome.FAILED else "",
                               longrepr=HANG_DUMP if outcome is Outcome.HANG else "")
                    for nodeid, outcome in outcomes.items())
    child = ChildProcess(status=ChildStatus.COMPLETED, exit_code=0, seconds=0.1, artifacts="", started=ids)
    return PlanResult(plan=Plan(label, context, collect_args, ids, attempt=attempt), results=results, children=(child,))


PLANS = [
    executed("suite", Context.SUITE, {A: Outcome.PASSED, B: Outcome.FAILED, HANGS: Outcome.HANG}),
    executed("suite (second look)", Context.SUITE, {A: Outcome.PASSED, B: Outcome.FAILED}, attempt=1),
    executed("alone " + B, Context.ALONE, {B: Outcome.PASSED}, ("tests/test_b.py",)),
    executed("alone " + B + " #2", Context.ALONE, {B: Outcome.PASSED}, ("tests/test_b.py",), attempt=1),
]


def verdicts() -> dict[str, object]:
    return {v.nodeid: v for v in all_verdicts(COLLECTION, PLANS, OPTIONS, STYLE)}


def test_verdicts_reasons_and_reproduce_commands() -> None:
    found = verdicts()
    victim, hang, broken = found[B], found[HANGS], found["tests/test_c.py"]
    assert (victim.verdict, victim.reason) == (  # type: ignore[attr-defined]
        Verdict.ORDER_DEPENDENT, "fails in the suite order (2 runs, reproduced), passes alone (2 of 2 runs)")
    assert victim.reproduce == (  # type: ignore[attr-defined]
        "python -m pytest -p no:randomly -m 'not slow' -- tests  # fails",
        f"python -m pytest -p no:randomly -m 'not slow' -- {B}  # passes")
    assert (hang.verdict, hang.detail) == (Verdict.HANG, (  # type: ignore[attr-defined]
        "blocked in recv (/usr/lib/python3.11/socket.py:10), called from test_waits (/p/tests/test_b.py:7)"))
    assert (broken.verdict, broken.detail) == (  # type: ignore[attr-defined]
        Verdict.COLLECTION_ERROR, "ImportError: no module named app.gone")
    assert "hiding the other 3 test(s)" in broken.reason  # type: ignore[attr-defined]
    assert found[A].verdict is Verdict.PASS  # type: ignore[attr-defined]
    assert needs_confirmation(PLANS[:1] + PLANS[2:]) == {B}
    assert order_files(PLANS) == {"suite.txt": (A, B, HANGS), "suite--second-look.txt": (A, B)}


def record(tmp_path: Path, status: RecordStatus = RecordStatus.COMPLETE) -> RunRecord:
    return RunRecord(id="20260101-000000-aaaa", wsdoctor_version="0", cwd=str(tmp_path), options=OPTIONS,
                     status=status, collection=COLLECTION, plan_results=tuple(PLANS),
                     verdicts=tuple(all_verdicts(COLLECTION, PLANS, OPTIONS, STYLE)), seconds=1.5,
                     children_started=4, created=1.0)


def test_run_with_audit_exits_1_when_state_is_left_changed(tmp_path: Path) -> None:
    plan = Plan(label="suite", context=Context.SUITE, collect_args=(), test_ids=("t.py::test_0",), state_probes=True)
    leak = StateChange(kind="environ", name="X", before=None, after="1", by="t.py::test_0")
    result = PlanResult(plan=plan, children=(),
                        results=(TestResult("t.py::test_0", Outcome.PASSED, state_changes=(leak,)),))
    clean = dataclasses.replace(record(tmp_path), verdicts=(), plan_results=())
    assert run_exit(clean) is ExitCode.OK
    assert run_exit(dataclasses.replace(clean, plan_results=(result,))) is ExitCode.FINDINGS


def printed(draw: object, *args: object) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    draw(*args, console, *(("record",) if draw is render_run else ()))  # type: ignore[operator]
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_the_end_of_a_run_lists_each_finding_with_its_evidence(tmp_path: Path) -> None:
    text = printed(render_run, record(tmp_path))
    assert "order-dependent" in text and B in text and "suite failed ×2 · alone passed ×2" in text
    assert "$ python -m pytest -p no:randomly -m 'not slow' -- tests  # fails" in text
    assert "blocked in recv" in text
    assert ("wsdoctor: 4 test(s): 1 pass, 1 order-dependent, 1 hang, 1 collection-error · 4 child run(s) in "
            "1.5 s · record record") in text


def test_an_unfinished_run_shows_what_its_children_finished(tmp_path: Path) -> None:
    text = printed(render_run, record(tmp_path, RecordStatus.INTERRUPTED))
    assert f"failed {B} (suite): assert 'closed' == 'up'" in text
    assert "wsdoctor: run interrupted, no verdicts: 7 of 7 test run(s) done (4 passed, 2 failed, 1 hang)" in text


BISECTED = BisectResult(
    victim=B, verdict=Verdict.ORDER_DEPENDENT, summary=f"{B} fails after {A}", polluters=(A,), scope=Scope.TEST,
    leaked_state=(FLAG,), confidence=Confidence.HIGH, confidence_detail="failed in 1 of 1 run(s) after the polluters",
    trials=3, seconds=1.25, reproduce=(f"python -m pytest -p no:randomly {A} {B}  # fails",),
    steps=(f"suspect {A}, alone before the victim, is enough",),
    failure=TestResult(B, Outcome.FAILED, message="assert app.FLAGS['beta'] is False"))


def test_a_bisect_shows_its_culprit_the_leak_and_how_sure_it_is() -> None:
    text = printed(render_bisect, BISECTED)
    assert f"order-dependent {B}" in text and f"polluters (test): {A}" in text
    assert "confidence: high (failed in 1 of 1 run(s) after the polluters)" in text
    assert "app.FLAGS" in text and "dict len=1 {'beta': True}" in text
    assert "3 child run(s) in 1.2 s" in text


def test_victims_that_share_a_bisected_cause_are_listed_under_it(tmp_path: Path) -> None:
    shared = dataclasses.replace(BISECTED, victim=HANGS, explained_by=B, steps=())
    run = dataclasses.replace(record(tmp_path), bisects=(dataclasses.replace(BISECTED, explains=(HANGS,)), shared))
    text = printed(render_run, run)
    assert text.count(f"polluters (test): {A}") == 1  # the cause, once
    assert "the same cause explains 1 more order-dependent test(s), checked in one run" in text
    assert "1 more order-dependent test(s) share a cause found above" in text
    assert f"{HANGS} ← {B}" in text


def store(tmp_path: Path, *records: RunRecord | BisectRecord) -> None:
    for stored in records:
        directory = tmp_path / ".wsdoctor" / "runs" / stored.id
        directory.mkdir(parents=True)
        save_record(directory, stored)


def a_bisect(tmp_path: Path, from_run: str | None) -> BisectRecord:
    return BisectRecord(id="20260101-000009-bbbb", wsdoctor_version="0", cwd=str(tmp_path), created=9.0,
                        options=BisectOptions(victim=B, from_run=from_run), status=RecordStatus.COMPLETE,
                        collection=COLLECTION, result=BISECTED)


def report(tmp_path: Path, wsdoctor_in_process, *args: str) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    done = wsdoctor_in_process(tmp_path, "report", *args, "--format", "json", "--out", "report.json")
    assert done.exit_code == 0, done.stderr
    insights: list[dict[str, object]] = json.loads((tmp_path / "report.json").read_text())["insights"]
    return insights


def evidence_of(insights: list[dict[str, object]], nodeid: str) -> dict[str, object]:
    return next(e for i in insights for e in i["evidence"] if e["test"] == nodeid)  # type: ignore[attr-defined]


def test_a_run_is_reported_with_the_bisects_made_from_it(tmp_path: Path, wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    store(tmp_path, record(tmp_path), a_bisect(tmp_path, from_run="20260101-000000-aaaa"))
    insights = report(tmp_path, wsdoctor_in_process)  # the newest record is the bisect: its run is reported
    victim = evidence_of(insights, B)
    assert (victim["verdict"], victim["polluters"], victim["scope"]) == ("order-dependent", [A], "test")
    assert victim["leaked_state"] == [dataclasses.asdict(FLAG)]
    assert {"tests/test_c.py", HANGS} <= {e["test"] for i in insights for e in i["evidence"]}  # type: ignore[attr-defined]


def test_a_bisect_alone_is_reported_by_its_id_and_as_the_newest(tmp_path: Path, wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    store(tmp_path, record(tmp_path), a_bisect(tmp_path, from_run=None))
    for args in ((), ("20260101-000009-bbbb",)):
        insights = report(tmp_path, wsdoctor_in_process, *args)
        assert [e["test"] for i in insights for e in i["evidence"]] == [B]  # type: ignore[attr-defined]
        assert evidence_of(insights, B)["message"] == "assert app.FLAGS['beta'] is False"


def test_every_report_format_is_written(tmp_path: Path, wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    store(tmp_path, record(tmp_path))
    markdown = wsdoctor_in_process(tmp_path, "report", "--format", "markdown", "--out", "md")
    html = wsdoctor_in_process(tmp_path, "report", "--format", "html", "--out", "page.html")
    terminal = wsdoctor_in_process(tmp_path, "report")
    assert (markdown.exit_code, html.exit_code, terminal.exit_code) == (0, 0, 0)
    index = (tmp_path / "md" / "README.md").read_text()
    assert index.startswith("# wsdoctor report of run 20260101-000000-aaaa")
    assert len(list((tmp_path / "md").glob("0*.md"))) == index.count("confidence, ")
    page = (tmp_path / "page.html").read_text()
    assert "<h3>Test Evidence</h3>" in page and "<script" not in page
    assert "wsdoctor report of run 20260101-000000-aaaa" in terminal.stdout and "## Phenomenon" not in terminal.stdout


HEARTBEAT = AliveThread(name="heartbeat-sender", started_by=A)


def lingering_record(tmp_path: Path) -> RunRecord:
    """Every test passed, and the suite child's process never exited: a thread kept it alive."""
    plan = executed("suite", Context.SUITE, {A: Outcome.PASSED})
    child = dataclasses.replace(plan.children[0], status=ChildStatus.LINGERED, threads_alive=(HEARTBEAT,))
    collection = Collection(rootdir="/p", inifile=None, tests=(CollectedTest(A, "tests/test_a.py"),))
    return dataclasses.replace(record(tmp_path), collection=collection,
                               plan_results=(dataclasses.replace(plan, children=(child,)),),
                               verdicts=tuple(all_verdicts(collection, [plan], OPTIONS, STYLE)))


EXIT_DUMP = (
    'Timeout (0:00:04)!\nThread 0x00007f40be5fa6c0 (most recent call first):\n'
    '  File "/p/.wsdoctor/runs/x/child-path/wsdoctor/child/reaper.py", line 75 in _wait_for_parent\n'
    '  File "/usr/lib/python3.11/threading.py", line 982 in run\n\n'
    'Thread 0x00007f40c0e57b80 (most recent call first):\n'
    '  File "/usr/lib/python3.11/multiprocessing/popen_fork.py", line 27 in poll\n'
    '  File "/usr/lib/python3.11/multiprocessing/util.py", line 357 in _exit_function\n')


# The same, in a child that ends through wsdoctor's entry (python wsdoctor/child/__main__.py):
# its frames and runpy's are around every exit, and say nothing of what blocked it.
ENTRY_FRAMES = ('  File "/p/.wsdoctor/runs/x/child-path/wsdoctor/child/__main__.py", line 31 in main\n'
                '  File "/p/.wsdoctor/runs/x/child-path/wsdoctor/child/__main__.py", line 51 in <module>\n'
                '  File "<frozen runpy>", line 88 in _run_code\n')


@pytest.mark.parametrize(("dump", "said"), [
    (EXIT_DUMP, "blocked in _exit_function (/usr/lib/python3.11/multiprocessing/util.py:357)"),
    (EXIT_DUMP + ENTRY_FRAMES, "blocked in _exit_function (/usr/lib/python3.11/multiprocessing/util.py:357)"),
    ("Timeout (0:00:04)!\nThread 0x00007fc3089f6b80 (most recent call first):\n  <no Python frame>\n",
     "in code that is not Python"),
    ("Timeout (0:00:04)!\nThread 0x00007fc3089f6b80 (most recent call first):\n" + ENTRY_FRAMES,
     "in code that is not Python"),  # an atexit function that is C, time.sleep: only the entry's frames
])
def test_a_session_that_did_not_exit_with_no_thread_left_says_where_its_exit_was_blocked(
        tmp_path: Path, dump: str, said: str) -> None:
    """A multiprocessing child never joined, an atexit function that never returns: on main the run
    said "no thread was named still alive; plain pytest waits for them for ever"."""
    lingering = lingering_record(tmp_path)
    plan = lingering.plan_results[0]
    child = dataclasses.replace(plan.children[0], threads_alive=(), hang_dump=dump)
    lingering = dataclasses.replace(lingering, plan_results=(dataclasses.replace(plan, children=(child,)),))
    text = printed(render_run, lingering)
    assert "session did not exit after its last test in suite: no thread was left, but the interpreter's exit " \
           "never ended" in text and said in text, text
    assert "no thread was named" not in text


def test_a_session_that_did_not_exit_is_a_finding_that_names_its_thread(tmp_path: Path,
                                                                        wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    lingering = lingering_record(tmp_path)
    assert [v.verdict for v in lingering.verdicts] == [Verdict.PASS]
    assert run_exit(lingering) is ExitCode.FINDINGS
    text = printed(render_run, lingering)
    assert (f"session did not exit after its last test in suite: heartbeat-sender (started by {A}) still "
            "alive; plain pytest waits for it for ever") in text
    assert "1 test(s): 1 pass, the session did not exit" in text
    assert run_document(lingering, 1)["session"] == {"exits": False, "threads_alive": ["heartbeat-sender"],
                                                     "started_by": [A], "runs": ["suite"]}
    assert run_document(record(tmp_path), 1)["session"]["exits"] is True
    store(tmp_path, lingering)
    evidence = evidence_of(report(tmp_path, wsdoctor_in_process), A)
    assert [(leak["kind"], leak["name"], leak["by"]) for leak in evidence["leaked_state"]] == [  # type: ignore[attr-defined]
        ("thread", "heartbeat-sender", A)]


def test_a_session_that_stopped_before_collecting_anything_says_so_without_counting_holes() -> None:
    """`-- -W error` with a plugin that warns at configure: on main "does not import: its 0 test(s)
    never run, and a plain pytest run stops at collection, hiding the other 0 test(s)"."""
    collection = Collection(rootdir="/p", inifile=None, tests=(), errors=(
        CollectionError(".", "INTERNALERROR> pytest.PytestDeprecationWarning: unset", False, 0),))
    [verdict] = all_verdicts(collection, [], OPTIONS, STYLE)
    assert (verdict.nodeid, verdict.verdict) == (".", Verdict.COLLECTION_ERROR)
    assert verdict.reason.startswith("pytest stopped before it collected anything") and "0 test" not in verdict.reason


def test_a_conftest_whose_import_hung_is_the_hang_with_the_tests_it_hides(tmp_path: Path) -> None:
    """On main: "hang ." and "its 0 test(s) were never collected"."""
    from wsdoctor.childio import ChildOutput
    from wsdoctor.collect import collection_from
    from wsdoctor.execution.child import ChildSettings
    from wsdoctor.execution.pool import Executor

    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_a():\n    pass\n\ndef test_b():\n    pass\n")
    dump = (f'Timeout (0:00:11)!\nThread 0x1 (most recent call first):\n'
            f'  File "{tmp_path}/tests/conftest.py", line 3 in <module>\n'
            f'  File "/venv/site-packages/_pytest/config/__init__.py", line 1 in _importconftest\n')
    executor = Executor(ChildSettings(python="python", cwd=tmp_path, pytest_args=(), timeout=2.0,
                                      artifacts=tmp_path / ".wsdoctor" / "r"), 1)
    child = ChildProcess(ChildStatus.HUNG, -9, 11.0, str(tmp_path / "c"), started=(), hang_dump=dump)
    collection, _ = collection_from(executor, (), child, ChildOutput())
    [error] = collection.errors
    assert (error.path, error.tests_in_file, error.hung) == ("tests/conftest.py", 2, True)
    [verdict] = all_verdicts(collection, [], OPTIONS, STYLE)
    assert (verdict.nodeid, verdict.verdict) == ("tests/conftest.py", Verdict.HANG)
    assert "its 2 test(s)" in verdict.reason


def test_a_file_whose_import_hung_is_a_hang_with_where_it_was_blocked() -> None:
    dump = ('Timeout (0:00:11)!\nThread 0x1 (most recent call first):\n'
            '  File "/p/app/warmup.py", line 18 in load_model\n  File "/p/tests/test_slow.py", line 4 in <module>\n'
            '  File "/venv/site-packages/_pytest/python.py", line 1 in importtestmodule\n')
    collection = Collection(rootdir="/p", inifile=None, tests=(CollectedTest(A, "tests/test_a.py"),), errors=(
        CollectionError("tests/test_slow.py", dump, collects_alone=False, tests_in_file=2, hung=True),))
    assert collection.hung == ("tests/test_slow.py",)
    [hang, _] = all_verdicts(collection, [executed("suite", Context.SUITE, {A: Outcome.PASSED})], OPTIONS, STYLE)
    assert (hang.nodeid, hang.verdict) == ("tests/test_slow.py", Verdict.HANG)
    assert hang.detail == "blocked in load_model (/p/app/warmup.py:18)"
    assert hang.reason.startswith("collecting it did not finish within the collection deadline: its 2 test(s)")
    assert hang.reproduce == ("python -m pytest -p no:randomly -m 'not slow' --collect-only -q -- tests/test_slow.py",)


def test_the_notes_are_shown_as_warnings_with_the_run() -> None:
    child = ChildProcess(ChildStatus.COMPLETED, 0, 0.1, "/p/.wsdoctor/runs/r/children/0001-suite", (),
                         notes=("skipped 1 line(s) of events.jsonl that are not events, the first 'garbage'",))
    plan = Plan(label="suite", context=Context.SUITE, collect_args=(), test_ids=())
    record = RunRecord(id="r", wsdoctor_version="0", cwd="/p", status=RecordStatus.COMPLETE,
                       options=RunOptions(paths=(), pytest_args=(), python="python"),
                       plan_results=(PlanResult(plan=plan, results=(), children=(child,)),))
    assert ("warning: child 0001-suite: skipped 1 line(s) of events.jsonl that are not events, the first 'garbage'"
            in printed(render_run, record))
