"""`wsdoctor run`: start the run (wsdoctor.commands.run_start), then complete it
(wsdoctor.commands.run_session, imported once the suite child runs); `run --last`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from wsdoctor.childio import read_child_dir
from wsdoctor.commands.run_start import Consoles, RunRequest, keep_interrupted, start_run
from wsdoctor.exits import ExitCode, run_exit
from wsdoctor.paths import shown_path
from wsdoctor.records import Context, Outcome, Plan, PlanResult, RecordKind, RecordStatus, RunRecord, TestResult
from wsdoctor.store import find_record, load_record


def run_suite(request: RunRequest, consoles: Consoles) -> ExitCode:
    start = start_run(request)
    try:
        from wsdoctor.commands.clean import prune_quietly
        from wsdoctor.commands.run_session import complete_run

        code = complete_run(start, *consoles())
        prune_quietly(request.cwd)
        return code
    except KeyboardInterrupt:
        return keep_interrupted(start)
    finally:
        start.executor.kill_all()  # no child outlives the run, whatever ended it


def show_last(cwd: Path, consoles: Consoles) -> ExitCode:
    """Show the newest run; exit with the code it had (130 when it did not finish)."""
    from wsdoctor.render.terminal import render_run

    path = find_record(cwd, None, (RecordKind.RUN,))
    record = load_record(path)
    assert isinstance(record, RunRecord)  # run.json holds a run
    if record.status is not RecordStatus.COMPLETE:
        record = with_children_so_far(record, path.parent)
    render_run(record, consoles()[0], shown_path(path, cwd))
    return run_exit(record)


def with_children_so_far(record: RunRecord, run_dir: Path) -> RunRecord:
    """An unfinished run with what its children reported after the record was last saved: their
    events are written as the tests finish, so a run killed mid-phase still shows its tests."""
    recorded = {child.artifacts for plan_result in record.plan_results for child in plan_result.children}
    directories = sorted((run_dir / "children").glob("*"))
    found = []
    for directory in directories:
        if str(directory) in recorded:
            continue
        output = read_child_dir(directory, Path(record.cwd))
        ids = tuple(dict.fromkeys([*output.started, *output.results]))
        if ids:
            label = _read_label(directory)
            plan = Plan(label=label, context=Context.ALONE if label.startswith("alone ") else Context.SUITE,
                        collect_args=(), test_ids=ids)
            unfinished = TestResult(nodeid="", outcome=Outcome.NOT_RUN, message=f"did not finish: the run was "
                                    f"{record.status.value}")
            results = tuple(output.results.get(i) or dataclasses.replace(unfinished, nodeid=i) for i in ids)
            found.append(PlanResult(plan=plan, results=results, children=()))
    return dataclasses.replace(record, plan_results=(*record.plan_results, *found),
                               children_started=max(record.children_started, len(directories)))


def _read_label(directory: Path) -> str:
    try:
        return (directory / "label.txt").read_text(encoding="utf-8").strip() or directory.name
    except OSError:
        return directory.name
