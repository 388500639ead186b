"""The child-side plugin (wsdoctor.child.plugin), run inside real pytest processes via pytester.

Each test writes a small project, runs pytest on it with `-p wsdoctor.child.plugin`, and
reads what the plugin left in its output directory, the way the parent does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from wsdoctor import childio
from wsdoctor.child.protocol import AWAIT_OPTION
from wsdoctor.execution.launch import stage_child_package
from wsdoctor.planner import suite_plans
from wsdoctor.records import CollectedTest, Collection, Outcome, RunOptions
from wsdoctor.text import blocked_frame

STAGES = ("setup", "call", "teardown")
JSON_REPORT_KEYS = {"created", "duration", "exitcode", "root", "environment", "summary", "collectors",
                    "tests", "warnings"}
COMPAT_PYTHON = os.environ.get("WSDOCTOR_COMPAT_PYTHON", "")
# The projects here are plain pytest: pytest-asyncio, installed for the scenarios, stays out of
# their runs (it warns in each one about its unset loop scope).
PLAIN_PYTEST = ("-p", "no:cacheprovider", "-p", "no:asyncio")

# Every test of the project appends its node id here, so "ran" means ran, not "was reported".
RECORDING_CONFTEST = """
    from pathlib import Path

    import pytest

    @pytest.fixture(autouse=True)
    def _record_run(request):
        with open(Path(__file__).parent / "ran.txt", "a") as handle:
            handle.write(request.node.nodeid + "\\n")
"""
FIXTURES = """
    import warnings

    import pytest

    @pytest.fixture
    def broken_setup():
        raise RuntimeError("broken setup")

    @pytest.fixture
    def broken_teardown():
        yield
        raise RuntimeError("broken teardown")
"""


# --- helpers -----------------------------------------------------------------


def run_child(pytester: pytest.Pytester, out: Path, *args: str, ids: Sequence[str] | None = None,
              isolated: bool = False, timeout: float | None = None) -> pytest.RunResult:
    """pytest with the plugin on the pytester project; isolated: in a subprocess of its own."""
    argv = [*PLAIN_PYTEST, "-p", "wsdoctor.child.plugin", f"--wsdoctor-out={out}", *args]
    if ids is not None:
        ids_file = out.parent / "ids.txt"
        ids_file.write_text("".join(f"{nodeid}\n" for nodeid in ids), encoding="utf-8")
        argv.append(f"--wsdoctor-ids={ids_file}")
    if isolated:
        return pytester.runpytest_subprocess(*argv, timeout=timeout)
    # In this process another test may have imported the plugin already (a real child never has):
    # pytest's warning that it cannot rewrite its asserts is then this process's, not the child's.
    return pytester.runpytest(*argv, "-W", "ignore::pytest.PytestAssertRewriteWarning")


def run_json_report(pytester: pytest.Pytester, path: Path, *args: str) -> dict[str, Any]:
    """The same project under the real pytest-json-report, for comparison."""
    pytester.runpytest(*PLAIN_PYTEST, "--json-report", f"--json-report-file={path}", *args)
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def events(out: Path, kind: str) -> list[dict[str, Any]]:
    lines = (out / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [event for event in map(json.loads, lines) if event["event"] == kind]


def started(out: Path) -> list[str]:
    return [event["nodeid"] for event in events(out, "start")]


def finished(out: Path) -> list[str]:
    return [event["test"]["nodeid"] for event in events(out, "test")]


def load_report(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return data


def outcomes(report: dict[str, Any]) -> dict[str, str]:
    return {test["nodeid"]: test["outcome"] for test in report["tests"]}


def ran(pytester: pytest.Pytester) -> list[str]:
    return (pytester.path / "ran.txt").read_text(encoding="utf-8").splitlines()


def shape_of(test: dict[str, Any]) -> dict[str, Any]:
    """What must agree with pytest-json-report: keys, line, outcomes, per-stage keys and outcomes."""
    shape = {"keys": sorted(test), "lineno": test["lineno"], "outcome": test["outcome"]}
    shape.update({when: (sorted(test[when]), test[when]["outcome"]) for when in STAGES if when in test})
    return shape



@pytest.fixture
def ordered_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(RECORDING_CONFTEST)
    pytester.makepyfile(
        test_one="""
            def test_a():
                pass

            def test_b():
                pass
        """,
        test_two="""
            import pytest

            def test_c():
                pass

            @pytest.mark.parametrize("n", [1, 2, 3])
            def test_p(n):
                pass
        """,
    )
    return pytester


# --- order and selection -------------------------------------------------------

INTERLEAVED = ["test_two.py::test_p[3]", "test_one.py::test_b", "test_two.py::test_c",
               "test_two.py::test_p[1]", "test_one.py::test_a", "test_two.py::test_p[2]"]


def test_ids_file_imposes_its_order_across_files_and_parameters(ordered_project: pytest.Pytester,
                                                                tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_child(ordered_project, out, ids=INTERLEAVED)

    result.assert_outcomes(passed=6)
    assert [item["nodeid"] for item in events(out, "collected")[0]["items"]] == INTERLEAVED
    assert started(out) == INTERLEAVED
    assert finished(out) == INTERLEAVED
    assert ran(ordered_project) == INTERLEAVED
    assert load_report(out)["wsdoctor"]["order"] == INTERLEAVED
    assert [test["nodeid"] for test in load_report(out)["tests"]] == INTERLEAVED


def test_unlisted_tests_are_deselected_and_unknown_ids_reported_missing(
        ordered_project: pytest.Pytester, tmp_path: Path) -> None:
    out = tmp_path / "out"
    wanted = ["test_two.py::test_p[2]", "test_one.py::test_a"]
    unknown = ["test_one.py::test_gone", "test_three.py::test_x"]
    result = run_child(ordered_project, out, ids=[wanted[0], unknown[0], wanted[1], wanted[0], unknown[1]])

    result.assert_outcomes(passed=2, deselected=4)
    assert ran(ordered_project) == wanted
    assert started(out) == wanted
    collected = events(out, "collected")[0]
    assert (collected["missing"], collected["deselected"]) == (unknown, 4)
    report = load_report(out)
    assert report["wsdoctor"]["missing"] == unknown
    assert (report["summary"]["deselected"], report["summary"]["total"]) == (4, 2)


def test_without_ids_file_everything_runs_in_collection_order(ordered_project: pytest.Pytester,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_child(ordered_project, out).assert_outcomes(passed=6)

    expected = ["test_one.py::test_a", "test_one.py::test_b", "test_two.py::test_c",
                "test_two.py::test_p[1]", "test_two.py::test_p[2]", "test_two.py::test_p[3]"]
    assert started(out) == expected
    assert events(out, "collected")[0]["missing"] == []


def test_a_shuffle_seed_runs_the_collection_shuffled_as_the_planner_shuffles_it(ordered_project: pytest.Pytester,
                                                                               tmp_path: Path) -> None:
    in_order = ["test_one.py::test_a", "test_one.py::test_b", "test_two.py::test_c",
                "test_two.py::test_p[1]", "test_two.py::test_p[2]", "test_two.py::test_p[3]"]
    collection = Collection(rootdir=str(ordered_project.path), inifile=None,
                            tests=tuple(CollectedTest(i, i.split("::")[0]) for i in in_order))
    planned = {p.label: p for p in suite_plans(collection, RunOptions(paths=(), pytest_args=(), python="python",
                                                                       shuffle=7))}["shuffle 7"]
    out = tmp_path / "out"
    run_child(ordered_project, out, "--wsdoctor-shuffle=7").assert_outcomes(passed=6)
    assert started(out) == list(planned.test_ids) != in_order
    assert [item["nodeid"] for item in events(out, "collected")[0]["items"]] == list(planned.test_ids)
    again = tmp_path / "again"
    run_child(ordered_project, again, "--wsdoctor-shuffle=7", ids=INTERLEAVED)  # an ids file wins
    assert started(again) == INTERLEAVED


def test_an_order_wsdoctor_gives_is_shown_as_dots_without_a_line_per_change_of_file(
        ordered_project: pytest.Pytester, tmp_path: Path) -> None:
    progress = run_child(ordered_project, tmp_path / "out", ids=INTERLEAVED).outlines
    assert not [line for line in progress if line.startswith(("test_one.py", "test_two.py"))], progress
    assert any(line.startswith("......") for line in progress)


# --- report.json against pytest-json-report ---------------------------------------

OUTCOME_CASES = [
    pytest.param("def test_it():\n    pass\n", "passed", id="passed"),
    pytest.param("def test_it():\n    assert 1 == 2\n", "failed", id="failed"),
    pytest.param("def test_it():\n    pytest.skip('no')\n", "skipped", id="skipped-in-call"),
    pytest.param("@pytest.mark.skip(reason='no')\ndef test_it():\n    pass\n", "skipped", id="skip-marker"),
    pytest.param("@pytest.mark.xfail(reason='x')\ndef test_it():\n    assert 0\n", "xfailed", id="xfailed"),
    pytest.param("@pytest.mark.xfail(reason='x')\ndef test_it():\n    pass\n", "xpassed", id="xpassed"),
    pytest.param("@pytest.mark.xfail(strict=True)\ndef test_it():\n    pass\n", "failed", id="strict-xpass"),
    pytest.param("def test_it(broken_setup):\n    pass\n", "error", id="setup-error"),
    pytest.param("def test_it(broken_teardown):\n    pass\n", "error", id="teardown-error"),
    pytest.param("def test_it(broken_teardown):\n    assert 0\n", "error", id="failed-then-teardown-error"),
]


@pytest.mark.parametrize(("body", "expected"), OUTCOME_CASES)
def test_test_outcome_agrees_with_pytest_json_report(pytester: pytest.Pytester, tmp_path: Path,
                                                     body: str, expected: str) -> None:
    pytester.makepyfile(test_case=textwrap.dedent(FIXTURES) + "\n" + body)
    run_child(pytester, tmp_path / "out")
    theirs = run_json_report(pytester, tmp_path / "json-report.json")
    ours = load_report(tmp_path / "out")

    assert outcomes(theirs) == {"test_case.py::test_it": expected}  # the table itself is right
    assert outcomes(ours) == outcomes(theirs)
    assert childio.test_result(ours["tests"][0]).outcome == Outcome(expected)


@pytest.fixture
def mixed_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_mixed=FIXTURES + """
    def test_passes():
        pass

    def test_fails():
        assert 1 == 2

    def test_skips():
        pytest.skip("not today")

    @pytest.mark.xfail(reason="known bug")
    def test_xfails():
        raise ValueError("known")

    def test_setup_errors(broken_setup):
        pass

    def test_warns():
        warnings.warn(RuntimeWarning("coroutine 'x' was never awaited"))
    """)
    return pytester


def test_report_has_the_shape_of_pytest_json_report(mixed_project: pytest.Pytester, tmp_path: Path) -> None:
    run_child(mixed_project, tmp_path / "out")
    theirs = run_json_report(mixed_project, tmp_path / "json-report.json")
    ours = load_report(tmp_path / "out")

    assert set(theirs) == JSON_REPORT_KEYS
    assert set(ours) == JSON_REPORT_KEYS | {"wsdoctor"}
    assert {t["nodeid"]: shape_of(t) for t in ours["tests"]} == {
        t["nodeid"]: shape_of(t) for t in theirs["tests"]}
    assert set(ours["warnings"][0]) == set(theirs["warnings"][0]) | {"nodeid"}


def test_failure_details_match_pytest_json_report(mixed_project: pytest.Pytester, tmp_path: Path) -> None:
    run_child(mixed_project, tmp_path / "out")
    theirs = {t["nodeid"]: t for t in run_json_report(mixed_project, tmp_path / "jr.json")["tests"]}
    ours = {t["nodeid"]: t for t in load_report(tmp_path / "out")["tests"]}

    assert ours["test_mixed.py::test_fails"]["call"]["crash"]["message"] == "assert 1 == 2"
    assert "RuntimeError: broken setup" in ours["test_mixed.py::test_setup_errors"]["setup"]["longrepr"]
    for nodeid, when in (("test_mixed.py::test_fails", "call"),
                         ("test_mixed.py::test_setup_errors", "setup")):
        ours_stage, theirs_stage = ours[nodeid][when], theirs[nodeid][when]
        assert (ours_stage["crash"], ours_stage["traceback"], ours_stage["longrepr"]) == (
            theirs_stage["crash"], theirs_stage["traceback"], theirs_stage["longrepr"])


def test_parent_reads_outcomes_and_messages_from_the_report(mixed_project: pytest.Pytester,
                                                            tmp_path: Path) -> None:
    run_child(mixed_project, tmp_path / "out")
    output = childio.read_child_dir(tmp_path / "out", mixed_project.path)

    assert {nodeid.split("::")[1]: r.outcome for nodeid, r in output.results.items()} == {
        "test_passes": Outcome.PASSED, "test_fails": Outcome.FAILED, "test_skips": Outcome.SKIPPED,
        "test_xfails": Outcome.XFAILED, "test_setup_errors": Outcome.ERROR, "test_warns": Outcome.PASSED}
    assert [output.results[f"test_mixed.py::{name}"].message for name in (
        "test_passes", "test_fails", "test_xfails", "test_setup_errors")] == [
        "", "assert 1 == 2", "ValueError: known", "RuntimeError: broken setup"]
    assert "broken setup" in output.results["test_mixed.py::test_setup_errors"].longrepr
    assert output.exitcode == 1
    assert output.versions is not None
    assert output.versions.pytest == pytest.__version__


def _drop_events(out: Path, kinds: set[str]) -> None:
    path = out / "events.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(line for line in lines if json.loads(line)["event"] not in kinds), encoding="utf-8")


def _what_the_parent_knows(output: childio.ChildOutput) -> tuple[Any, ...]:
    return output.results, output.exitcode, output.versions, output.warnings


@pytest.mark.parametrize("damage", ["report-deleted", "finished-event-lost", "test-events-lost"])
def test_parent_knows_the_same_from_the_events_alone_and_from_the_report(
        mixed_project: pytest.Pytester, tmp_path: Path, damage: str) -> None:
    out = tmp_path / "out"
    run_child(mixed_project, out)
    from_events = _what_the_parent_knows(childio.read_child_dir(out, mixed_project.path))
    if damage == "report-deleted":  # the finished event must carry what the report would add
        (out / "report.json").unlink()
    else:  # events that stop short: the report must fill the gap
        _drop_events(out, {"finished"} if damage == "finished-event-lost" else {"test"})

    assert _what_the_parent_knows(childio.read_child_dir(out, mixed_project.path)) == from_events
    assert (len(from_events[0]), from_events[1], len(from_events[3])) == (6, 1, 1)


def test_parent_shows_the_skip_reason_as_the_message(mixed_project: pytest.Pytester, tmp_path: Path) -> None:
    run_child(mixed_project, tmp_path / "out")
    output = childio.read_child_dir(tmp_path / "out", mixed_project.path)

    assert output.results["test_mixed.py::test_skips"].message == "Skipped: not today"


def test_captured_output_is_reported_only_in_the_stage_that_printed(pytester: pytest.Pytester,
                                                                    tmp_path: Path) -> None:
    pytester.makepyfile("def test_prints():\n    print('hello from call')\n")
    run_child(pytester, tmp_path / "out")
    theirs = run_json_report(pytester, tmp_path / "jr.json")["tests"][0]
    ours = load_report(tmp_path / "out")["tests"][0]

    assert theirs["call"]["stdout"] == ours["call"]["stdout"] == "hello from call\n"
    assert {when: ours[when].get("stdout") for when in STAGES} == {
        when: theirs[when].get("stdout") for when in STAGES}


def test_summary_counts_match_pytest_json_report_in_the_same_run(ordered_project: pytest.Pytester,
                                                                  tmp_path: Path) -> None:
    # Both plugins in one process: pytest-json-report sees the plugin's deselection too.
    run_child(ordered_project, tmp_path / "out", "--json-report",
              f"--json-report-file={tmp_path / 'jr.json'}", ids=INTERLEAVED[:2])
    theirs = json.loads((tmp_path / "jr.json").read_text(encoding="utf-8"))

    assert theirs["summary"] == {"passed": 2, "total": 2, "collected": 6, "deselected": 4}
    assert load_report(tmp_path / "out")["summary"] == theirs["summary"]


# --- collection errors ---------------------------------------------------------------

@pytest.fixture
def broken_import_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_broken="import no_such_module_wsdoctor\n\ndef test_never():\n    pass\n",
                        test_fine="def test_fine():\n    pass\n")
    return pytester


@pytest.mark.parametrize(("args", "expected_started", "expected_exitcode"), [
    pytest.param((), [], 2, id="interrupted"),
    pytest.param(("--continue-on-collection-errors",), ["test_fine.py::test_fine"], 1, id="continue"),
])
def test_collection_error_is_an_event_and_a_collector(broken_import_project: pytest.Pytester, tmp_path: Path,
                                                      args: tuple[str, ...], expected_started: list[str],
                                                      expected_exitcode: int) -> None:
    out = tmp_path / "out"
    run_child(broken_import_project, out, *args)

    [error] = events(out, "collect-error")
    assert error["nodeid"] == "test_broken.py"
    assert "no_such_module_wsdoctor" in error["longrepr"]
    report = load_report(out)
    assert [(c["nodeid"], c["outcome"], c["result"]) for c in report["collectors"]] == [
        ("test_broken.py", "failed", [])]
    assert started(out) == finished(out) == expected_started
    assert report["exitcode"] == expected_exitcode
    output = childio.read_child_dir(out, broken_import_project.path)
    assert list(output.collect_errors) == ["test_broken.py"]


def test_failed_collector_entry_matches_pytest_json_report(broken_import_project: pytest.Pytester,
                                                           tmp_path: Path) -> None:
    run_child(broken_import_project, tmp_path / "out")
    theirs = run_json_report(broken_import_project, tmp_path / "jr.json")

    failed = [c for c in theirs["collectors"] if c["outcome"] == "failed"]
    assert load_report(tmp_path / "out")["collectors"] == failed


# --- crashes and hangs -------------------------------------------------------------------

CRASH_PROJECT = """
    def test_first():
        pass

    def test_second():
        assert 1 == 2

    def test_crashes():
        {crash}

    def test_never_reached():
        pass
"""


@pytest.mark.e2e
@pytest.mark.parametrize(("crash", "returncode"), [
    pytest.param("import os; os._exit(3)", 3, id="os-exit"),
    pytest.param("import ctypes; ctypes.string_at(0)", -signal.SIGSEGV, id="segfault"),
])
def test_crash_leaves_a_start_without_a_test_event(pytester: pytest.Pytester, tmp_path: Path,
                                                   crash: str, returncode: int) -> None:
    pytester.makepyfile(test_crash=CRASH_PROJECT.format(crash=crash))
    out = tmp_path / "out"
    result = run_child(pytester, out, isolated=True, timeout=60)

    assert result.ret == returncode
    before = ["test_crash.py::test_first", "test_crash.py::test_second"]
    assert started(out) == [*before, "test_crash.py::test_crashes"]
    assert finished(out) == before
    assert not (out / "report.json").exists()


@pytest.mark.e2e
def test_parent_names_the_crashed_test_from_what_the_child_left(pytester: pytest.Pytester,
                                                                tmp_path: Path) -> None:
    pytester.makepyfile(test_crash=CRASH_PROJECT.format(crash="import os; os._exit(3)"))
    out = tmp_path / "out"
    run_child(pytester, out, isolated=True, timeout=60)
    output = childio.read_child_dir(out, pytester.path)

    assert output.started[-1] == "test_crash.py::test_crashes"
    assert {nodeid: (r.outcome, r.message) for nodeid, r in output.results.items()} == {
        "test_crash.py::test_first": (Outcome.PASSED, ""),
        "test_crash.py::test_second": (Outcome.FAILED, "assert 1 == 2")}
    assert output.exitcode is None


@pytest.fixture
def hanging_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_hang="""
        import time

        def test_fast():
            pass

        def test_sleeps_forever():
            time.sleep(30)

        def test_after():
            pass
    """)
    return pytester


@pytest.mark.e2e
def test_deadline_dumps_the_hung_test_and_ends_the_process(hanging_project: pytest.Pytester,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "out"
    began = time.monotonic()
    result = run_child(hanging_project, out, "--wsdoctor-timeout=1", isolated=True, timeout=25)

    assert time.monotonic() - began < 10
    assert result.ret == 1  # faulthandler's exit
    dump = (out / "hang.txt").read_text(encoding="utf-8")
    assert "Timeout" in dump
    assert "test_sleeps_forever" in dump
    assert not (out / "report.json").exists()
    assert started(out)[-1] == "test_hang.py::test_sleeps_forever"


@pytest.mark.e2e
def test_parent_finds_where_the_hung_test_was_blocked(hanging_project: pytest.Pytester,
                                                      tmp_path: Path) -> None:
    run_child(hanging_project, tmp_path / "out", "--wsdoctor-timeout=1", isolated=True, timeout=25)
    output = childio.read_child_dir(tmp_path / "out", hanging_project.path)

    assert list(output.results) == ["test_hang.py::test_fast"]
    assert output.started[-1] == "test_hang.py::test_sleeps_forever"
    assert blocked_frame(output.hang_dump, str(hanging_project.path)).startswith(
        f"test_sleeps_forever ({hanging_project.path / 'test_hang.py'}:")


@pytest.mark.e2e
def test_deadline_is_per_test_not_per_session(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_slowish="""
        import time
        import pytest

        @pytest.mark.parametrize("n", range(4))
        def test_sleeps_a_little(n):
            time.sleep(0.6)
    """)
    out = tmp_path / "out"
    result = run_child(pytester, out, "--wsdoctor-timeout=1.5", isolated=True, timeout=60)

    result.assert_outcomes(passed=4)
    assert (out / "hang.txt").read_text(encoding="utf-8") == ""
    assert load_report(out)["summary"]["passed"] == 4


@pytest.mark.e2e
def test_deadline_is_disarmed_when_the_last_test_ends(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makeconftest("import time\n\ndef pytest_sessionfinish():\n    time.sleep(2)\n")
    pytester.makepyfile("def test_quick():\n    pass\n")
    out = tmp_path / "out"
    result = run_child(pytester, out, "--wsdoctor-timeout=1", isolated=True, timeout=60)

    assert result.ret == 0
    assert (out / "hang.txt").read_text(encoding="utf-8") == ""
    assert load_report(out)["summary"]["passed"] == 1


def test_listed_paths_are_collected_from_a_directory_and_nothing_else_is_imported(pytester: pytest.Pytester,
                                                                                  tmp_path: Path) -> None:
    pytester.makepyfile(**{"tests/test_a": "def test_a():\n    pass\n",
                           "tests/test_b [1]": "def test_b():\n    pass\n",
                           "tests/test_broken": "raise ImportError('imported although not listed')\n",
                           "other/test_c": "def test_c():\n    pass\n"})
    listed = tmp_path / "paths.txt"
    listed.write_text(f"{pytester.path / 'tests' / 'test_b [1].py'}\n")
    out = tmp_path / "out"
    run_child(pytester, out, f"--wsdoctor-paths={listed}", "tests")
    assert [item["nodeid"] for item in events(out, "collected")[0]["items"]] == ["tests/test_b [1].py::test_b"]
    assert events(out, "collect-error") == []
    assert finished(out) == ["tests/test_b [1].py::test_b"]


# --- sessions that end before their tests do --------------------------------------------------

RAISING_HOOK = """
    def pytest_runtest_logreport(report):
        module, test = report.nodeid.split("::")
"""


def test_an_internal_error_is_an_event_that_says_where_it_was_raised(pytester: pytest.Pytester,
                                                                    tmp_path: Path) -> None:
    pytester.makeconftest(RAISING_HOOK)
    pytester.makepyfile(test_rooms="""
        def test_first():
            pass

        class TestRoom:
            def test_in_a_class(self):
                pass

        def test_never_reached():
            pass
    """)
    out = tmp_path / "out"
    result = run_child(pytester, out)

    assert result.ret == 3  # pytest's INTERNALERROR
    assert started(out) == ["test_rooms.py::test_first", "test_rooms.py::TestRoom::test_in_a_class"]
    assert finished(out) == ["test_rooms.py::test_first"]
    [stopped] = events(out, "stopped")
    assert stopped["why"].startswith("INTERNALERROR\n") and "ValueError" in stopped["why"]
    assert list(outcomes(load_report(out))) == ["test_rooms.py::test_first"]  # the class test never finished
    output = childio.read_child_dir(out, pytester.path)
    assert output.stopped == ("pytest stopped with INTERNALERROR: ValueError: too many values to unpack "
                              "(expected 2), raised in conftest.py:2 in pytest_runtest_logreport")


def test_exitfirst_in_the_configuration_does_not_stop_a_child(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makeini("[pytest]\naddopts = -x --maxfail=1\n")
    pytester.makepyfile(test_fails="def test_a():\n    assert 0\n\ndef test_b():\n    assert 0\n\n"
                                   "def test_c():\n    pass\n")
    out = tmp_path / "out"
    run_child(pytester, out)
    assert finished(out) == ["test_fails.py::test_a", "test_fails.py::test_b", "test_fails.py::test_c"]
    assert events(out, "stopped") == [] and events(out, "finished")[0]["stopped"] is None


@pytest.mark.e2e
@pytest.mark.parametrize("addopts", ["--trace", "--pdb", "--setup-only", "--setup-plan", "--sw", "--sw-skip",
                                     "--collect-only", "--lf --lfnf=none", "--fixtures", "--markers"])
def test_what_would_run_nothing_or_lie_in_the_configuration_is_switched_off(pytester: pytest.Pytester,
                                                                            tmp_path: Path, addopts: str) -> None:
    """On main, `--trace` in the addopts had every test "pass" unrun; --setup-only and --setup-plan too;
    --sw stopped at the first failure; --pdb quit the session; --collect-only ran nothing."""
    pytester.makeini(f"[pytest]\naddopts = {addopts}\n")
    pytester.makepyfile(test_fails="def test_a():\n    assert 0\n\ndef test_b():\n    assert 0\n\n"
                                   "def test_c():\n    pass\n")
    out = tmp_path / "out"
    # With the cache, as wsdoctor's children have it (--sw and --lf need it).
    pytester.runpytest_subprocess("-p", "no:asyncio", "-p", "wsdoctor.child.plugin", f"--wsdoctor-out={out}",
                                  f"-o=cache_dir={tmp_path / 'cache'}", timeout=60)
    assert outcomes(load_report(out)) == {"test_fails.py::test_a": "failed", "test_fails.py::test_b": "failed",
                                          "test_fails.py::test_c": "passed"}
    assert events(out, "finished")[0]["stopped"] is None


def test_a_test_that_interrupts_the_session_is_said_to_have_stopped_it(pytester: pytest.Pytester,
                                                                       tmp_path: Path) -> None:
    pytester.makepyfile(test_exit="import pytest\n\ndef test_a():\n    pytest.exit('enough')\n\n"
                                  "def test_b():\n    pass\n")
    out = tmp_path / "out"
    run_child(pytester, out)
    assert started(out) == ["test_exit.py::test_a"]
    assert childio.read_child_dir(out, pytester.path).stopped == "interrupted: _pytest.outcomes.Exit: enough"


# --- deadlines for collection and for the process's exit -------------------------------------


@pytest.mark.e2e
def test_the_child_entry_ends_as_pytest_does_threads_joined_atexit_run_output_and_exit_code_kept(
        pytester: pytest.Pytester, tmp_path: Path) -> None:
    """The child entry, run as wsdoctor runs it (by its path in the staged package), skips only the
    interpreter's finalization; sys.path starts with the working directory, as with python -m pytest."""
    joined, exited, logged = tmp_path / "joined", tmp_path / "exited", tmp_path / "session.log"
    pytester.makeconftest(f"""
        import atexit, pathlib
        atexit.register(lambda: pathlib.Path({str(exited)!r}).write_text("atexit ran"))
        LOG = open({str(logged)!r}, "w")  # never closed: the interpreter's exit would flush it

        def pytest_sessionfinish(session):
            LOG.write("session finished")
    """)
    pytester.makepyfile(test_entry=f"""
        import pathlib, threading, time

        def test_leaves_a_thread_finishing_late():
            def finish():
                time.sleep(0.5)
                pathlib.Path({str(joined)!r}).write_text("joined")
            threading.Thread(target=finish).start()

        def test_fails():
            assert "closed" == "up"

        def test_sys_path_starts_with_the_working_directory():
            import os, sys
            assert sys.path[0] == os.getcwd()
    """)
    entry = stage_child_package(tmp_path / "staged") / "wsdoctor" / "child" / "__main__.py"
    done = subprocess.run([sys.executable, str(entry), *PLAIN_PYTEST], cwd=pytester.path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert " 1 failed, 2 passed in " in done.stdout.splitlines()[-1]
    assert (joined.read_text(), exited.read_text(), logged.read_text()) == ("joined", "atexit ran", "session finished")


@pytest.mark.e2e
def test_a_thread_that_never_ends_is_named_and_the_process_ended_after_the_test_deadline(
        pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_thread="""
        import threading, time

        def test_before():
            pass

        def test_starts_a_heartbeat():
            threading.Thread(target=lambda: time.sleep(3600), name="heartbeat").start()

        def test_after():
            pass
    """)
    out = tmp_path / "out"
    began = time.monotonic()
    result = run_child(pytester, out, "--wsdoctor-timeout=1", isolated=True, timeout=25)

    assert time.monotonic() - began < 15
    assert result.ret == 1  # faulthandler's exit, not pytest's 0
    [finished_event] = events(out, "finished")
    assert finished_event["exitcode"] == 0
    assert [(t["name"], t["started_by"]) for t in finished_event["threads"]] == [
        ("heartbeat", "test_thread.py::test_starts_a_heartbeat")]
    assert f"Thread {finished_event['threads'][0]['ident']:#018x}" in (out / "hang.txt").read_text()


@pytest.mark.e2e
def test_a_file_that_hangs_at_import_is_dumped_after_the_collection_deadline(pytester: pytest.Pytester,
                                                                           tmp_path: Path) -> None:
    pytester.makepyfile(test_fast="def test_a():\n    pass\n",
                        test_slow="import time\ntime.sleep(60)\n\ndef test_b():\n    pass\n")
    out = tmp_path / "out"
    began = time.monotonic()
    result = run_child(pytester, out, "--wsdoctor-collect-timeout=1", isolated=True, timeout=30)

    assert time.monotonic() - began < 15
    assert result.ret == 1
    assert [e["nodeid"] for e in events(out, "collecting")] == ["test_fast.py", "test_slow.py"]
    assert events(out, "collected") == []
    output = childio.read_child_dir(out, pytester.path)
    assert output.collecting == "test_slow.py"
    assert blocked_frame(output.hang_dump, str(pytester.path)).startswith("<module> (")


@pytest.mark.e2e
def test_a_conftest_that_hangs_at_import_is_dumped_after_the_collection_deadline(pytester: pytest.Pytester,
                                                                               tmp_path: Path) -> None:
    pytester.makeconftest("import time\ntime.sleep(60)\n")
    pytester.makepyfile(test_fast="def test_a():\n    pass\n")
    out = tmp_path / "out"
    result = run_child(pytester, out, "--wsdoctor-collect-timeout=1", isolated=True, timeout=30)
    assert result.ret == 1
    assert "conftest.py" in (out / "hang.txt").read_text()


# --- collect-only, no output dir, warnings ----------------------------------------------------


def test_collect_only_writes_collected_event_and_report(pytester: pytest.Pytester, tmp_path: Path) -> None:
    test_file = pytester.makepyfile(test_col="import pytest\n\ndef test_a():\n    pass\n\n\n"
                                             "@pytest.mark.parametrize('n', [1])\ndef test_b(n):\n    pass\n")
    out = tmp_path / "out"
    run_child(pytester, out, "--wsdoctor-collect-only")  # how wsdoctor asks for a collection

    [collected] = events(out, "collected")
    assert collected["items"] == [
        {"nodeid": "test_col.py::test_a", "path": str(test_file), "lineno": 2},
        {"nodeid": "test_col.py::test_b[1]", "path": str(test_file), "lineno": 6}]
    assert collected["rootdir"] == str(pytester.path)
    assert started(out) == []
    report = load_report(out)
    assert (report["exitcode"], report["tests"], report["root"]) == (0, [], str(pytester.path))
    assert childio.read_child_dir(out, pytester.path).collected == (
        CollectedTest("test_col.py::test_a", "test_col.py", 2),
        CollectedTest("test_col.py::test_b[1]", "test_col.py", 6))


def test_without_output_dir_the_plugin_writes_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_quiet="""
        def test_plugin_is_inert(request):
            assert request.config.pluginmanager.get_plugin("wsdoctor-recorder") is None
    """)
    before = sorted(pytester.path.rglob("*"))
    result = pytester.runpytest(*PLAIN_PYTEST, "-p", "wsdoctor.child.plugin")

    result.assert_outcomes(passed=1)
    assert [p for p in sorted(pytester.path.rglob("*")) if "__pycache__" not in p.parts] == before


def test_warnings_are_reported_with_category_and_nodeid(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_warn="""
        import warnings

        def test_warns():
            warnings.warn(RuntimeWarning("coroutine 'x' was never awaited"))
    """)
    out = tmp_path / "out"
    run_child(pytester, out)

    mine = [w for w in load_report(out)["warnings"] if w["nodeid"] == "test_warn.py::test_warns"]
    assert [(w["category"], w["message"], w["when"]) for w in mine] == [
        ("RuntimeWarning", "coroutine 'x' was never awaited", "runtest")]
    assert mine[0] in childio.read_child_dir(out, pytester.path).warnings


# --- state probes ------------------------------------------------------------------------------

PROBED_APP = {
    "app/__init__.py": "",
    "app/state.py": """
        import asyncio
        import json

        DEBUG = False
        REGISTRY = {}
        LOOP = None


        class Settings:
            retries = 3


        class Manager:
            def __init__(self):
                self.active = []
                self.name = "main"


        manager = Manager()
        """,
}

# Each test leaves one kind of process-global state changed; test_clean leaves nothing.
PROBED_TESTS = """
    import asyncio
    import logging
    import os
    import signal
    import socket
    import sys
    import threading
    from unittest import mock

    from app import state

    LOCAL = []

    def test_clean(tmp_path, monkeypatch):
        monkeypatch.setattr(state, "DEBUG", True)
        monkeypatch.setenv("PROBE_TEMPORARY", "1")
        (tmp_path / "f.txt").write_text("x")
        with open(tmp_path / "f.txt") as handle:
            handle.read()

    def test_module_global():
        state.DEBUG = True

    def test_container():
        state.REGISTRY["plugin"] = object

    def test_instance_attribute():
        state.manager.active.append("ws-1")
        state.manager.name = "renamed"

    def test_class_attribute():
        state.Settings.retries = 0

    def test_environ():
        os.environ["PROBE_LEAK"] = "1"

    def test_cwd(tmp_path):
        os.chdir(tmp_path)

    def test_sys_path():
        sys.path.append("/nowhere/probe")

    def test_sys_modules_rebound():
        sys.modules["json"] = mock.MagicMock()

    def test_thread():
        stop = threading.Event()
        threading.Thread(target=stop.wait, name="probe-thread", daemon=True).start()

    def test_socket():
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen()
        LEFT_OPEN.append(server)

    def test_patcher():
        mock.patch("app.state.Manager.__init__", return_value=None).start()

    def test_logging_handler():
        logging.getLogger("probe").addHandler(logging.NullHandler())

    def test_signal_handler():
        signal.signal(signal.SIGUSR1, lambda *args: None)

    def test_closed_loop():
        loop = asyncio.new_event_loop()
        loop.close()
        state.LOOP = loop

    def test_own_module_global():
        LOCAL.append(1)

    def test_file_left_in_the_tree():
        with open(os.path.join(os.path.dirname(__file__), "LEFT.txt"), "w") as handle:
            handle.write("x")

    LEFT_OPEN = []
"""


@pytest.mark.e2e
def test_probes_name_the_state_each_test_leaves_changed(pytester: pytest.Pytester, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))  # the machine's /tmp changes under other processes
    for name, text in PROBED_APP.items():
        (pytester.path / name).parent.mkdir(parents=True, exist_ok=True)
        (pytester.path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    pytester.makepyfile(test_probed=PROBED_TESTS)
    pytester.makeini("[pytest]\npythonpath = .\n")
    out = tmp_path / "out"

    result = run_child(pytester, out, "--wsdoctor-probe", isolated=True)

    assert result.ret == 0, result.stdout.str()
    # pytester writes the child's stdout and stderr into the project as it runs: not the tests' doing
    tests = {entry["test"]["nodeid"].split("::")[1]: [c for c in entry["test"]["state_changes"]
                                                      if c[0] not in ("file:stdout", "file:stderr")]
             for entry in events(out, "test")}
    keys = {name: sorted(change[0] for change in changes) for name, changes in tests.items()}
    socket_key = keys["test_socket"].pop()  # its port is the OS's choice
    assert socket_key.startswith("socket:LISTEN 127.0.0.1:")
    assert keys == {
        "test_clean": [],
        "test_module_global": ["module-attr:app.state.DEBUG"],
        "test_container": ["module-attr:app.state.REGISTRY"],
        "test_instance_attribute": ["module-attr:app.state.manager.active", "module-attr:app.state.manager.name"],
        "test_class_attribute": ["class-attr:app.state.Settings.retries"],
        "test_environ": ["environ:PROBE_LEAK"],
        "test_cwd": ["cwd:"],
        "test_sys_path": ["sys.path:/nowhere/probe"],
        "test_sys_modules_rebound": ["sys.modules:json"],
        "test_thread": ["thread:probe-thread"],
        "test_socket": ["module-attr:test_probed.LEFT_OPEN"],
        "test_patcher": ["patcher:Manager.__init__"],
        "test_logging_handler": ["logging:probe"],
        "test_signal_handler": ["signal:SIGUSR1"],
        "test_closed_loop": ["module-attr:app.state.LOOP"],
        "test_own_module_global": ["module-attr:test_probed.LOCAL"],
        "test_file_left_in_the_tree": ["file:LEFT.txt"],
    }
    changes = {name: {key: (before, after) for key, before, after in found} for name, found in tests.items()}
    assert changes["test_module_global"]["module-attr:app.state.DEBUG"] == ("False", "True")
    assert changes["test_sys_modules_rebound"]["sys.modules:json"][1].startswith("MagicMock @")
    assert changes["test_closed_loop"]["module-attr:app.state.LOOP"] == ("None", "event loop (closed)")
    assert changes["test_own_module_global"]["module-attr:test_probed.LOCAL"] == ("list len=0", "list len=1")


# --- Python 3.9 / pytest 7.0 ---------------------------------------------------------------


COMPAT_PROJECT = """
    import os
    import warnings

    import pytest

    SEEN = []

    @pytest.fixture
    def broken():
        raise RuntimeError("boom")

    def test_pass():
        SEEN.append("leaked")
        os.environ["COMPAT_LEAK"] = "1"

    def test_fail():
        assert 1 == 2

    def test_skip():
        pytest.skip("no")

    @pytest.mark.xfail(reason="known")
    def test_xfail():
        assert 0

    def test_error(broken):
        pass

    def test_warns():
        warnings.warn(RuntimeWarning("never awaited"))

    def test_unlisted():
        pass
"""


def run_started_ahead(shared: list[str], own: list[str], cwd: Path,
                      env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A child started with ``shared``, which reads ``own`` from a pipe once pytest has loaded its plugins."""
    read_end, write_end = os.pipe()
    child = subprocess.Popen([*shared, f"{AWAIT_OPTION}={read_end}"], cwd=cwd, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL, pass_fds=(read_end,))
    os.close(read_end)
    with open(write_end, "wb") as pipe:
        pipe.write(json.dumps(own).encode())
    stdout, stderr = child.communicate(timeout=120)
    return subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)


@pytest.mark.e2e
@pytest.mark.skipif(not (COMPAT_PYTHON and os.access(COMPAT_PYTHON, os.X_OK)),
                    reason="set WSDOCTOR_COMPAT_PYTHON to a Python 3.9 interpreter with pytest 7.0 installed")
@pytest.mark.parametrize("start", ["at once", "ahead"])
def test_plugin_works_on_python_39_with_pytest_70(tmp_path: Path, start: str) -> None:
    """Started ahead, the child reads its own part of the command line (where it writes, which tests)
    from a pipe before the first conftest.py, and pytest 7.0 parses it as if it had been given."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_compat.py").write_text(textwrap.dedent(COMPAT_PROJECT), encoding="utf-8")
    order = ["test_compat.py::test_warns", "test_compat.py::test_error", "test_compat.py::test_xfail",
             "test_compat.py::test_fail", "test_compat.py::test_skip", "test_compat.py::test_pass"]
    ids_text = "\n".join([*order, "test_compat.py::test_gone"]) + "\n"
    (tmp_path / "ids.txt").write_text(ids_text, encoding="utf-8")
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON"))}
    env["PYTHONPATH"] = str(stage_child_package(tmp_path / "child-path"))
    shared = [COMPAT_PYTHON, "-m", "pytest", "-p", "no:cacheprovider", "-p", "wsdoctor.child.plugin",
              "--wsdoctor-timeout=60", "--wsdoctor-probe"]
    own = [f"--wsdoctor-out={out}", f"--wsdoctor-ids={tmp_path / 'ids.txt'}"]
    if start == "at once":
        done = subprocess.run([*shared, *own], cwd=project, env=env, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL, check=False)
    else:
        done = run_started_ahead(shared, own, project, env)

    assert done.returncode == 1, done.stdout + done.stderr
    report = load_report(out)
    assert (report["environment"]["Python"][:4], report["environment"]["pytest"][:4]) == ("3.9.", "7.0.")
    assert started(out) == report["wsdoctor"]["order"] == order
    assert report["wsdoctor"]["missing"] == ["test_compat.py::test_gone"]
    assert outcomes(report) == {
        "test_compat.py::test_warns": "passed", "test_compat.py::test_error": "error",
        "test_compat.py::test_xfail": "xfailed", "test_compat.py::test_fail": "failed",
        "test_compat.py::test_skip": "skipped", "test_compat.py::test_pass": "passed"}
    assert set(report) == JSON_REPORT_KEYS | {"wsdoctor"}
    assert report["summary"]["deselected"] == 1
    assert [(w["category"], w["nodeid"]) for w in report["warnings"]] == [
        ("RuntimeWarning", "test_compat.py::test_warns")]
    output = childio.read_child_dir(out, project)
    assert [(c.key, c.before, c.after) for c in output.results["test_compat.py::test_pass"].state_changes] == [
        ("environ:COMPAT_LEAK", None, "1"), ("module-attr:test_compat.SEEN", "list len=0", "list len=1")]
    assert output.results["test_compat.py::test_fail"].message == "assert 1 == 2"
    assert output.results["test_compat.py::test_error"].outcome is Outcome.ERROR


def test_each_text_a_child_keeps_is_its_head_and_tail_and_less_once_the_child_budget_is_spent() -> None:
    from wsdoctor.child.plugin import TextBudget

    budget = TextBudget()
    huge = "frame-dump: begin\n" + "x" * 1_000_000 + "\nframe-dump: end\n"
    kept = budget.cut(huge)
    assert kept.startswith("frame-dump: begin\n") and kept.endswith("frame-dump: end\n")
    assert f"[... wsdoctor dropped {len(huge) - 2 * TextBudget.FIELD} characters here ...]" in kept
    assert budget.cut("short") == "short"
    budget.kept = TextBudget.CHILD_BUDGET
    assert len(budget.cut(huge)) < 2 * TextBudget.SPENT_FIELD + 100


def test_a_childs_output_is_kept_as_its_head_and_tail(tmp_path: Path) -> None:
    from wsdoctor.execution.output import HEAD, TAIL, CappedStream

    read_end, write_end = os.pipe()
    stream = CappedStream(os.fdopen(read_end, "rb"), tmp_path / "stdout.txt")
    with os.fdopen(write_end, "wb") as writer:
        writer.write(b"first line\n")
        stream.drain()
        for _ in range(100):
            writer.write(b"y" * 10_000)
            stream.drain()
        writer.write(b"\nlast line\n")
    stream.save()
    written = (tmp_path / "stdout.txt").read_bytes()
    assert written.startswith(b"first line\n") and written.endswith(b"\nlast line\n")
    assert f"[... wsdoctor dropped {11 + 1_000_000 + 11 - HEAD - TAIL} bytes here ...]".encode() in written
    assert len(written) < HEAD + TAIL + 100


@pytest.mark.e2e
def test_a_test_that_kills_its_xdist_worker_is_a_crash_not_a_test_without_an_outcome(pytester: pytest.Pytester,
                                                                                     tmp_path: Path) -> None:
    """On main the controller's report of the dead worker ("worker 'gw0' crashed while running ...")
    was dropped: the test had no outcome, a `not-run` with no reason, and no second look."""
    pytest.importorskip("xdist")
    pytester.makeini("[pytest]\naddopts = -n 2\n")
    pytester.makepyfile(test_dies="import os\n\ndef test_a():\n    pass\n\ndef test_dies():\n    os._exit(1)\n\n"
                                  "def test_c():\n    pass\n")
    out = tmp_path / "out"
    pytester.runpytest_subprocess("-p", "no:asyncio", "-p", "wsdoctor.child.plugin", f"--wsdoctor-out={out}",
                                  timeout=120)
    output = childio.read_child_dir(out, pytester.path)
    dead = output.results["test_dies.py::test_dies"]
    assert dead.outcome is Outcome.CRASH and "crashed while running 'test_dies.py::test_dies'" in dead.message
    assert {o.outcome for nodeid, o in output.results.items() if nodeid != dead.nodeid} == {Outcome.PASSED}
