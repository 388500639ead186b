"""Command line: parse options into a request, dispatch, and map what ended a command to its exit
code in one handler (the policy is wsdoctor.exits)."""

# No `from __future__ import annotations` here: typer reads every command's annotations each time
# it builds the command line, and a string annotation costs it an eval: 30-50 ms of every start.
import gc
import math
import os
import re
import sys
import tempfile
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.main
from typer.core import TyperCommand

from wsdoctor import __version__
from wsdoctor.config import MAX_SECONDS, Config, chosen, load_config
from wsdoctor.exits import ExitCode, UsageError, exit_for
from wsdoctor.records import BisectOptions, Isolation, RunOptions

if TYPE_CHECKING:
    from rich.console import Console

    from wsdoctor.commands.ci_request import CiOutputs, GateSettings

PYTEST_ARGS_KEY = "pytest_args"
DEFAULT_WORKERS = os.cpu_count() or 1
DEFAULT_TIMEOUT = 60.0
DEFAULT_BUDGET = 600.0
HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}  # on every command and group
MAX_REPEAT = 1000  # runs of each order (or trial): --repeat 99999999999999999999 planned until memory ran out


class PassthroughCommand(TyperCommand):
    """Everything after `--` goes to every child pytest unchanged (click would take it as paths)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            ctx.meta[PYTEST_ARGS_KEY] = tuple(args[cut + 1:])
            args = args[:cut]
        else:
            ctx.meta[PYTEST_ARGS_KEY] = None  # not given: [tool.wsdoctor] pytest_args, if any
        return list(super().parse_args(ctx, args))


def _pytest_args(ctx: typer.Context, config: Config) -> tuple[str, ...]:
    given: tuple[str, ...] | None = ctx.meta.get(PYTEST_ARGS_KEY)
    return chosen(given, config.pytest_args, ())


def _paths(paths: list[str] | None, config: Config) -> tuple[str, ...]:
    return chosen(tuple(paths) if paths else None, config.paths, ())


def _save_traceback() -> str:
    handle, path = tempfile.mkstemp(prefix="wsdoctor-internal-error-", suffix=".txt")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(traceback.format_exc())
    return path


def _stdout() -> "Console":
    """Rich is imported when something prints: `wsdoctor run` starts its suite child first, and
    the import overlaps with the child's start."""
    from rich.console import Console

    return Console()


def _consoles() -> "tuple[Console, Console]":
    """Standard output's and standard error's consoles."""
    from rich.console import Console

    return _stdout(), Console(stderr=True)


def _say_error(message: str) -> None:
    from rich.console import Console

    Console(stderr=True, highlight=False).print(f"wsdoctor: error: {message}", markup=False, soft_wrap=True)


app = typer.Typer(no_args_is_help=True, add_completion=False, context_settings=HELP_OPTIONS,
                  pretty_exceptions_enable=False,
                  help="A doctor for pytest suites: finds order-dependent, brittle, flaky, "
                       "hanging and crashing tests, and proves it.")


def _seconds(value: float | None) -> float | None:
    """A deadline or a budget: a finite number of seconds (inf and nan would silently disable it)."""
    if value is not None and (not math.isfinite(value) or value > MAX_SECONDS):
        raise typer.BadParameter(f"{value!r} is not a finite number of seconds (at most {MAX_SECONDS:.0f})")
    return value


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wsdoctor {__version__}")
        raise typer.Exit(0)


@app.callback()
def root_options(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                       help="Show the version and exit.")] = False) -> None:
    """wsdoctor: run, bisect and explain test pollution."""


@app.command(cls=PassthroughCommand)
def run(
    ctx: typer.Context,
    paths: Annotated[list[str] | None, typer.Argument(
        help="Files or directories to collect, as you would give them to pytest.")] = None,
    reverse: Annotated[bool, typer.Option(help="Also run the suite in reverse order.")] = False,
    shuffle: Annotated[int | None, typer.Option(
        metavar="SEED", help="Also run the suite shuffled with this seed (reusable).")] = None,
    repeat: Annotated[int, typer.Option(min=1, max=MAX_REPEAT, help="Run each order this many times, to expose "
                                        "non-determinism.")] = 1,
    isolate: Annotated[Isolation | None, typer.Option(
        help="Also run each file, or each test, in a child of its own.")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Children run in parallel (default: the number "
                                                "of CPUs).")] = None,
    timeout: Annotated[float | None, typer.Option(min=0, metavar="SECONDS", callback=_seconds,
                                                  help="Per-test deadline; 0 turns it off (default 60).")] = None,
    collect_timeout: Annotated[float | None, typer.Option(
        min=0, metavar="SECONDS", callback=_seconds,
        help="Deadline for collecting one file (default: 5 x --timeout; 0 turns it off).")] = None,
    python: Annotated[str | None, typer.Option(
        metavar="PATH", help="Interpreter to run the suite with (default: wsdoctor's).")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", metavar="FILE",
                                                   help="Write every verdict as JSON here.")] = None,
    last: Annotated[bool, typer.Option("--last", help="Show the last recorded run and exit.")] = False,
    audit: Annotated[bool, typer.Option(help="List every test (and file import) that leaves "
                                        "process-global state changed, even if nothing fails yet.")] = False,
    bisect_found: Annotated[bool, typer.Option("--bisect", help="Bisect every order-dependent test "
                                               "found.")] = False,
) -> None:
    """Run the suite in child processes, in several orders and isolations, and give every test a
    verdict. Arguments after `--` go to every child pytest unchanged."""
    from wsdoctor.commands.run import run_suite, show_last
    from wsdoctor.commands.run_start import RunRequest

    cwd = Path.cwd()
    if last:
        raise typer.Exit(int(show_last(cwd, _consoles)))
    config = load_config(cwd)
    interpreter = python or config.python
    options = RunOptions(paths=_paths(paths, config), pytest_args=_pytest_args(ctx, config),
                         python=interpreter or sys.executable, reverse=reverse, shuffle=shuffle,
                         repeat=repeat, isolate=isolate, workers=chosen(workers, config.workers, DEFAULT_WORKERS),
                         timeout=chosen(timeout, config.timeout, DEFAULT_TIMEOUT),
                         collect_timeout=collect_timeout, audit=audit, bisect=bisect_found)
    request = RunRequest(options=options, cwd=cwd, json_path=json_path, python_given=interpreter is not None)
    raise typer.Exit(int(run_suite(request, _consoles)))


@app.command(cls=PassthroughCommand)
def bisect(
    ctx: typer.Context,
    victim: Annotated[str, typer.Argument(help="Node id of the test that fails in the suite.")],
    paths: Annotated[list[str] | None, typer.Argument(help="Files or directories to collect.")] = None,
    from_run: Annotated[str | None, typer.Option(metavar="RUN_ID",
                                                 help="Take the failing order from a recorded run.")] = None,
    order_file: Annotated[Path | None, typer.Option(metavar="FILE", help="The failing order: node ids, "
                                                    "one a line (e.g. one xdist worker's).")] = None,
    randomly_seed: Annotated[int | None, typer.Option(metavar="SEED", help="The order pytest-randomly "
                                                      "made with this seed.")] = None,
    budget: Annotated[str | None, typer.Option(
        metavar="LIMITS", help="Give up after this long or this many child runs: '300' or '300s' or '5m' "
        "(time), '40runs', or both as '5m,40runs' (default: derived from the suite's size and the first "
        "run's time).")] = None,
    repeat: Annotated[int, typer.Option(min=1, max=MAX_REPEAT, help="Run every trial this often, for a victim "
                                        "that fails only sometimes.")] = 1,
    workers: Annotated[int | None, typer.Option(min=1, help="Trials run in parallel (default: the number "
                                                "of CPUs).")] = None,
    timeout: Annotated[float | None, typer.Option(min=0, metavar="SECONDS", callback=_seconds, help="Per-test deadline "
                                                  "(default 60).")] = None,
    collect_timeout: Annotated[float | None, typer.Option(
        min=0, metavar="SECONDS", callback=_seconds,
        help="Deadline for collecting one file (default: 5 x --timeout; 0 turns it off).")] = None,
    python: Annotated[str | None, typer.Option(metavar="PATH", help="Interpreter of the suite.")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", metavar="FILE",
                                                   help="Write the result as JSON here.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted bisect of this victim.")] = False,
) -> None:
    """Find the minimal set of tests (or file imports) that makes VICTIM fail, prove it, and name
    the state they leak. Arguments after `--` go to every child pytest unchanged."""
    from wsdoctor.commands.bisect import bisect_command
    from wsdoctor.commands.bisect_setup import BisectRequest

    config = load_config(Path.cwd())
    interpreter = python or config.python
    seconds, runs = parse_budget(budget) if budget is not None else (config.budget, None)
    options = BisectOptions(
        victim=victim, paths=_paths(paths, config), pytest_args=_pytest_args(ctx, config),
        python=interpreter or sys.executable, workers=chosen(workers, config.workers, DEFAULT_WORKERS),
        timeout=chosen(timeout, config.timeout, DEFAULT_TIMEOUT), collect_timeout=collect_timeout,
        budget=seconds, budget_runs=runs,
        repeat=repeat, from_run=from_run, order_file=str(order_file) if order_file else None,
        randomly_seed=randomly_seed)
    request = BisectRequest(options=options, cwd=Path.cwd(), python_given=interpreter is not None,
                            json_path=json_path, resume=resume)
    raise typer.Exit(int(bisect_command(request, *_consoles())))


@app.command()
def fix(
    target: Annotated[str | None, typer.Argument(
        metavar="[VICTIM | ID]", help="A victim's node id (its newest bisect), or a bisect's or a run's id "
        "(default: the newest record; a run: the causes its `--bisect` found).")] = None,
    apply: Annotated[bool, typer.Option("--apply", help="Write the proven patch into the project.")] = False,
    every: Annotated[bool, typer.Option("--all", help="Prove every candidate and show every proven one.")] = False,
    python: Annotated[str | None, typer.Option(metavar="PATH", help="Prove on this interpreter (default: "
                                               "the bisect's).")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Children run in parallel (default: the number "
                                                "of CPUs).")] = None,
    timeout: Annotated[float | None, typer.Option(min=0, metavar="SECONDS", callback=_seconds,
                                                  help="Per-test deadline (default: the bisect's).")] = None,
) -> None:
    """Turn a bisect's answer into a patch, proven in a scratch copy of the project before it is shown:
    the unified diff on standard output, the proof and the dropped candidates on standard error.
    Exit 0 a proven patch (for every cause), 1 none, 2 bad input, 3 internal error."""
    from wsdoctor.commands.fix import FixRequest, fix_command

    cwd = Path.cwd()
    config = load_config(cwd)
    request = FixRequest(cwd=cwd, target=target, python=python, workers=chosen(workers, config.workers,
                                                                               DEFAULT_WORKERS),
                         timeout=timeout, apply=apply, every=every)
    raise typer.Exit(int(fix_command(request, *_consoles())))


_BUDGET_PART = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|runs?)?\s*$")
_SECONDS_PER = {None: 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_budget(text: str) -> tuple[float | None, int | None]:
    """``--budget``: seconds and/or child runs, e.g. '300', '5m', '40runs', '5m,40runs'."""
    seconds: float | None = None
    runs: int | None = None
    for part in text.split(","):
        found = _BUDGET_PART.match(part)
        if found is None or float(found.group(1)) <= 0:
            raise UsageError(f"--budget {text!r}: give seconds ('300', '300s', '5m'), child runs ('40runs') "
                             "or both ('5m,40runs'), each above 0")
        number, unit = found.groups()
        if unit and unit.startswith("run"):
            if not number.isdigit():
                raise UsageError(f"--budget {text!r}: child runs are a whole number ('40runs')")
            runs = int(number)
        else:
            seconds = float(number) * _SECONDS_PER[unit]
            if seconds > MAX_SECONDS:
                raise UsageError(f"--budget {text!r}: at most a week ({MAX_SECONDS:.0f} seconds)")
    return seconds, runs


@app.command()
def report(
    record_id: Annotated[str | None, typer.Argument(
        metavar="[ID]", help="A recorded run or bisect (default: the newest of either), or the path of a "
        "record (its run.json or directory), such as a CI job's artifact.")] = None,
    output_format: Annotated[str | None, typer.Option(
        "--format", help="terminal, markdown, html or json (default: from --out's name, else terminal).")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", metavar="PATH", help="Where to write: a directory "
                                                  "or a .md file for markdown, a .html or .json file.")] = None,
    from_junit: Annotated[Path | None, typer.Option(metavar="FILE", help="Postmortem of a JUnit XML file "
                                                    "(pytest --junitxml), without re-running anything.")] = None,
    from_json_report: Annotated[Path | None, typer.Option(metavar="FILE", help="Postmortem of a "
                                                          "pytest-json-report file.")] = None,
    playbooks: Annotated[list[Path] | None, typer.Option("--playbooks", metavar="DIR",
                                                         help="More playbooks (theirs win on the same id).")] = None,
) -> None:
    """Insight reports (Phenomenon / Cause / Solution / Lesson / Test Evidence) from a run, or from a
    CI artifact."""
    from wsdoctor.commands.report import ReportRequest, chosen_format, report_command

    chosen = chosen_format(output_format, out_path)
    request = ReportRequest(cwd=Path.cwd(), record_id=record_id, format=chosen, out=out_path, from_junit=from_junit,
                            from_json_report=from_json_report, playbook_dirs=tuple(playbooks or ()))
    raise typer.Exit(int(report_command(request, *_consoles())))


playbooks_app = typer.Typer(help="List, show and validate playbooks.", no_args_is_help=True,
                            context_settings=HELP_OPTIONS)
app.add_typer(playbooks_app, name="playbooks")
ExtraDirs = Annotated[list[Path] | None, typer.Option("--playbooks", metavar="DIR", help="More playbooks.")]


@playbooks_app.command("list")
def playbooks_list(playbooks: ExtraDirs = None) -> None:
    """Every playbook in use: ours, then the project's (theirs win on the same id)."""
    from wsdoctor.commands.playbooks import list_playbooks

    raise typer.Exit(int(list_playbooks(Path.cwd(), tuple(playbooks or ()), _stdout())))


@playbooks_app.command("show")
def playbooks_show(playbook_id: Annotated[str, typer.Argument(metavar="ID")], playbooks: ExtraDirs = None) -> None:
    """Print one playbook's YAML."""
    from wsdoctor.commands.playbooks import show_playbook

    raise typer.Exit(int(show_playbook(Path.cwd(), playbook_id, tuple(playbooks or ()), _stdout())))


@playbooks_app.command("validate")
def playbooks_validate(paths: Annotated[list[Path] | None, typer.Argument(
        help="Playbook files or directories (default: ./playbooks).")] = None) -> None:
    """Check playbooks: every problem with its file, line and key."""
    from wsdoctor.commands.playbooks import validate_playbooks

    raise typer.Exit(int(validate_playbooks(tuple(paths or ()), Path.cwd(), _stdout())))


def _fail_on(given: list[str] | None, config: Config) -> tuple[str, ...]:
    from wsdoctor.analysis.gate import DEFAULT_FAIL_ON, GATE_VERDICTS, unknown_verdicts

    names = tuple(name.strip() for item in given or () for name in item.split(",") if name.strip())
    unknown = unknown_verdicts(names)
    if unknown:
        raise UsageError(f"--fail-on {unknown[0]!r}: use verdicts out of {', '.join(GATE_VERDICTS)}")
    return chosen(names or None, config.fail_on, DEFAULT_FAIL_ON)


def _baseline_file(given: Path | None, config: Config) -> tuple[Path, bool]:
    """The baseline's path, and whether it was named (then it must exist for ci)."""
    from wsdoctor.baseline import BASELINE_FILE

    if given is not None:
        return given, True
    return (config.baseline, True) if config.baseline is not None else (config.root / BASELINE_FILE, False)


FailOn = Annotated[list[str] | None, typer.Option(
    "--fail-on", metavar="VERDICTS", help="Verdicts that fail the job, comma-separated or repeated (default: "
    "order-dependent, brittle, flaky, hang, crash, collection-error, leaked-state, not-run).")]
BaselineOption = Annotated[Path | None, typer.Option(
    "--baseline", metavar="FILE", help="The baseline file (default: wsdoctor-baseline.yaml at the project root).")]

baseline_app = typer.Typer(help="The baseline: findings the project has accepted.", no_args_is_help=True)
app.add_typer(baseline_app, name="baseline")


@baseline_app.command("update")
def baseline_update(
    baseline: BaselineOption = None,
    fail_on: FailOn = None,
    reason: Annotated[str | None, typer.Option(metavar="TEXT", help="Why the new entries are accepted.")] = None,
    expires: Annotated[str | None, typer.Option(metavar="YYYY-MM-DD", help="When the new entries stop "
                                                "being accepted.")] = None,
    from_run: Annotated[str | None, typer.Option("--from", metavar="RUN_ID", help="Take the findings of "
                                                 "this run (default: the newest).")] = None,
) -> None:
    """Accept the last run's findings: write them into the baseline file, which `wsdoctor ci` reads.
    Entries keep their reasons and dates while they occur; fixed ones are removed."""
    import datetime

    from wsdoctor.baseline import parse_date
    from wsdoctor.commands.baseline import BaselineRequest, default_reason, update_baseline

    cwd = Path.cwd()
    config = load_config(cwd)
    today = datetime.date.today()
    request = BaselineRequest(cwd=cwd, path=_baseline_file(baseline, config)[0], fail_on=_fail_on(fail_on, config),
                              reason=reason or default_reason(today),
                              expires=parse_date(expires, "--expires") if expires else None, run_id=from_run)
    raise typer.Exit(int(update_baseline(request, _stdout())))


@app.command(cls=PassthroughCommand)
def ci(
    ctx: typer.Context,
    paths: Annotated[list[str] | None, typer.Argument(help="Files or directories to collect.")] = None,
    seed: Annotated[int | None, typer.Option(metavar="N", help="Seed of the shuffled order (default: derived "
                                             "from the CI run's id, and printed).")] = None,
    budget: Annotated[str | None, typer.Option(
        metavar="LIMITS", help="Time or child runs for bisecting the new order-dependent tests, all together: "
        "'600' or '10m', '200runs', or both as '10m,200runs' (default 600 seconds).")] = None,
    fail_on: FailOn = None,
    baseline: BaselineOption = None,
    junit: Annotated[Path | None, typer.Option(metavar="FILE", help="Write JUnit XML here.")] = None,
    summary: Annotated[Path | None, typer.Option(metavar="FILE", help="Write the Markdown summary here (it goes "
                                                 "to $GITHUB_STEP_SUMMARY when that is set).")] = None,
    reports: Annotated[Path | None, typer.Option(metavar="DIR", help="Write the insight reports here "
                                                 "(default: the run's record directory).")] = None,
    shard: Annotated[str | None, typer.Option(metavar="K/N", help="Run the K-th of N balanced shares of the "
                                              "test files.")] = None,
    durations_from: Annotated[Path | None, typer.Option(metavar="RECORD", help="Balance the shards by the "
                                                        "durations this run record holds.")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Children run in parallel (default: the number "
                                                "of CPUs).")] = None,
    timeout: Annotated[float | None, typer.Option(min=0, metavar="SECONDS", callback=_seconds, help="Per-test deadline "
                                                  "(default 60).")] = None,
    python: Annotated[str | None, typer.Option(metavar="PATH", help="Interpreter of the suite.")] = None,
    playbooks: Annotated[list[Path] | None, typer.Option("--playbooks", metavar="DIR",
                                                         help="More playbooks.")] = None,
) -> None:
    """Gate a build: the suite in its order and one shuffled order, bisects of new order-dependent
    tests, the audit and playbooks; fails the job on new findings, not on those the baseline accepts.
    Exit 0 passed, 1 failed, 2 bad input or config, 3 internal error."""
    from wsdoctor.analysis.shards import MAX_SHARDS, parse_shard
    from wsdoctor.commands.ci import ci_command
    from wsdoctor.commands.ci_request import CiRequest

    cwd = Path.cwd()
    config = load_config(cwd)
    spec = parse_shard(shard) if shard is not None else None
    if shard is not None and spec is None:
        raise UsageError(f"--shard {shard!r}: give K/N with 1 <= K <= N <= {MAX_SHARDS}, e.g. --shard 2/4")
    interpreter = python or config.python
    seconds, runs = parse_budget(budget) if budget is not None else (chosen(None, config.budget, DEFAULT_BUDGET), None)
    options = RunOptions(paths=_paths(paths, config), pytest_args=_pytest_args(ctx, config),
                         python=interpreter or sys.executable, workers=chosen(workers, config.workers, DEFAULT_WORKERS),
                         timeout=chosen(timeout, config.timeout, DEFAULT_TIMEOUT))
    request = CiRequest(
        options=options, cwd=cwd, python_given=interpreter is not None, seed=seed,
        budget=seconds, budget_runs=runs, shard=spec, durations_from=durations_from,
        gate=_gate_settings(fail_on, baseline, playbooks, config), outputs=_ci_outputs(junit, summary, reports),
        environment=dict(os.environ))
    raise typer.Exit(int(ci_command(request, _consoles)))


@app.command()
def merge(
    records: Annotated[list[Path], typer.Argument(metavar="RECORD...", help="Each shard's run.json, its "
                                                  "directory, or a directory holding them.")],
    fail_on: FailOn = None,
    baseline: BaselineOption = None,
    junit: Annotated[Path | None, typer.Option(metavar="FILE", help="Write JUnit XML here.")] = None,
    summary: Annotated[Path | None, typer.Option(metavar="FILE", help="Write the Markdown summary here (it goes "
                                                 "to $GITHUB_STEP_SUMMARY when that is set).")] = None,
    reports: Annotated[Path | None, typer.Option(metavar="DIR", help="Write the insight reports here.")] = None,
    previous: Annotated[Path | None, typer.Option(metavar="RECORD", help="An earlier run record whose bisects "
                                                  "know polluters, to tell where the split separated them.")] = None,
    playbooks: Annotated[list[Path] | None, typer.Option("--playbooks", metavar="DIR",
                                                         help="More playbooks.")] = None,
) -> None:
    """Combine the shards' records (`wsdoctor ci --shard K/N`) into one record, one report and one gate.
    Exit codes as `wsdoctor ci`."""
    from wsdoctor.commands.merge import MergeRequest, merge_command

    cwd = Path.cwd()
    config = load_config(cwd)
    request = MergeRequest(cwd=cwd, records=tuple(records), previous=previous,
                           gate=_gate_settings(fail_on, baseline, playbooks, config),
                           outputs=_ci_outputs(junit, summary, reports))
    raise typer.Exit(int(merge_command(request, _stdout())))


def _gate_settings(fail_on: list[str] | None, baseline: Path | None, playbooks: list[Path] | None,
                   config: Config) -> "GateSettings":
    from wsdoctor.commands.ci_request import GateSettings

    baseline_path, named = _baseline_file(baseline, config)
    return GateSettings(fail_on=_fail_on(fail_on, config), baseline=baseline_path, baseline_named=named,
                        playbook_dirs=tuple(playbooks or ()))


def _ci_outputs(junit: Path | None, summary: Path | None, reports: Path | None) -> "CiOutputs":
    from wsdoctor.commands.ci_request import CiOutputs

    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    return CiOutputs(junit=junit, summary=summary, reports=reports,
                     step_summary=Path(step_summary) if step_summary else None,
                     annotations=os.environ.get("GITHUB_ACTIONS") == "true")


@app.command()
def clean(
    keep: Annotated[int | None, typer.Option(min=0, metavar="N", help="Runs to keep, newest first (default: "
                                             "[tool.wsdoctor] keep_runs, else 10).")] = None,
    baseline: BaselineOption = None,
) -> None:
    """Remove old records from .wsdoctor/runs: all but the newest runs (with their bisects), never a
    run the baseline's entries were accepted from, nor one still running. Every run does this too."""
    from wsdoctor.commands.clean import clean_command

    raise typer.Exit(int(clean_command(Path.cwd(), keep, baseline, _stdout())))


@app.command()
def demo(
    directory: Annotated[Path | None, typer.Option("--dir", help="Copy the demo suite here (new or "
                                                   "empty directory) instead of a temporary one.")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Children run in parallel.")] = DEFAULT_WORKERS,
) -> None:
    """Run wsdoctor on its bundled demo: a small WebSocket app with real test pollution."""
    from wsdoctor.commands.demo import run_demo

    raise typer.Exit(int(run_demo(directory, workers, *_consoles())))


def main(args: list[str] | None = None) -> None:
    """Run the command line (wsdoctor.entry calls this once it is imported) and exit."""
    try:
        code = run_command_line(args)
    finally:
        # The interpreter's last collection would walk every record object on the way out
        # (20-30 ms after a large run); frozen objects are left to the end of the process.
        gc.freeze()
    sys.exit(code)


def run_command_line(args: list[str] | None = None) -> int:
    """The exit code of one command: what it returned, or what ended it, said in one line."""
    try:
        code = typer.main.get_command(app).main(args=args, prog_name="wsdoctor", standalone_mode=False)
    except typer.Abort:
        return ExitCode.INTERRUPTED
    except Exception as error:
        exit_code, message = exit_for(error)
        if exit_code is ExitCode.INTERNAL:  # the last resort: the traceback to a file
            message += f" (traceback in {_save_traceback()}; please report it)"
        if message:
            _say_error(message)
        return exit_code
    return code if isinstance(code, int) else ExitCode.OK
