"""Benchmark `wsdoctor run` against plain pytest on a generated, all-passing suite.

Scenarios, each timed with time.perf_counter over --rounds rounds (scenarios interleaved):

  a. python -m pytest -q                                         (the baseline, as a user runs it)
  p. python -m pytest -q -p no:cacheprovider                     (a reference: without pytest's
                                                                  cache plugin, which every child
                                                                  keeps for tests that use `cache`)
  b. python -m wsdoctor run --workers 1                          (one child collects and runs)
  c. python -m wsdoctor run --isolate file --workers 1
  d. python -m wsdoctor run --isolate file --workers 2

Targets: (b) / (a) <= 1.15 and (d) / (c) <= 0.6, judged on the median of each round's own
ratio (the machine's speed drifts between rounds; a round's scenarios share its drift).

Usage: python benchmarks/bench_run.py [--tests 2000] [--files 100] [--rounds 3] [--python PATH]
                                       [--json FILE] [--keep DIR]

Only the standard library; every measured command is a subprocess. Exit code 0 when the
benchmark ran (targets missed or not), 1 when a measured command failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_common import (  # next to this script: run it as a file
    APP_INVENTORY,
    APP_TEXT,
    CONFTEST,
    PYTEST_INI,
    child_environment,
    class_tests,
    fixture_tests,
    in_work_dir,
    param_tests,
    plain_tests,
    tests_per_file,
)

COMMAND_TIMEOUT = 3600.0
OUTPUT_TAIL = 3000
STATE_DIR = ".wsdoctor"


# --- the generated project ------------------------------------------------------------------------------

APP_INIT = '"""A tiny application for the benchmark suite to import."""\n'


@dataclass(frozen=True, slots=True)
class FileShape:
    """How many tests of each kind one generated file has."""

    plain: int
    fixture: int
    methods: int
    params: int

    @property
    def total(self) -> int:
        return self.plain + self.fixture + self.methods + self.params


def file_shape(count: int) -> FileShape:
    if count < 4:
        return FileShape(plain=count, fixture=0, methods=0, params=0)
    quarter = count // 4
    return FileShape(plain=count - 3 * quarter, fixture=quarter, methods=quarter, params=quarter)


def test_module(index: int, count: int) -> str:
    shape = file_shape(count)
    blocks = [*plain_tests(index, shape.plain), *fixture_tests(index, shape.fixture),
              *class_tests(index, shape.methods), *param_tests(index, shape.params)]
    head = (f'"""Generated benchmark tests, module {index}."""\n\nimport pytest\n\n'
            "from app import text\nfrom app.inventory import Inventory\n")
    return head + "".join("\n\n" + block for block in blocks)


def write_project(root: Path, tests: int, files: int) -> None:
    (root / "app").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "app" / "__init__.py").write_text(APP_INIT, encoding="utf-8")
    (root / "app" / "text.py").write_text(APP_TEXT, encoding="utf-8")
    (root / "app" / "inventory.py").write_text(APP_INVENTORY, encoding="utf-8")
    (root / "tests" / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (root / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
    width = max(3, len(str(files - 1)))
    for index, count in enumerate(tests_per_file(tests, files)):
        path = root / "tests" / f"test_mod_{index:0{width}d}.py"
        path.write_text(test_module(index, count), encoding="utf-8")


# --- running and timing ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scenario:
    key: str
    label: str
    argv: tuple[str, ...]  # after the interpreter
    wsdoctor: bool


@dataclass(slots=True)
class Timings:
    scenario: Scenario
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # the command and all its descendants
    breakdowns: list[dict[str, float]] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def minimum(self) -> float:
        return min(self.seconds)


def scenarios() -> list[Scenario]:
    run = ("-m", "wsdoctor", "run")
    return [
        Scenario("a", "pytest -q (baseline)", ("-m", "pytest", "-q"), False),
        Scenario("p", "pytest -q -p no:cacheprovider (reference)",
                 ("-m", "pytest", "-q", "-p", "no:cacheprovider"), False),
        Scenario("b", "wsdoctor run --workers 1", (*run, "--workers", "1"), True),
        Scenario("c", "wsdoctor run --isolate file --workers 1",
                 (*run, "--isolate", "file", "--workers", "1"), True),
        Scenario("d", "wsdoctor run --isolate file --workers 2",
                 (*run, "--isolate", "file", "--workers", "2"), True),
    ]


def children_cpu() -> float:
    """CPU seconds (user + system) of all finished, waited-for descendants so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_checked(command: Sequence[str], cwd: Path) -> tuple[float, float]:
    """Run one command: its wall and CPU seconds. Exits the benchmark if it did not exit 0."""
    cpu_before = children_cpu()
    started = time.perf_counter()
    done = subprocess.run(list(command), cwd=cwd, env=child_environment(cwd), stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=COMMAND_TIMEOUT, check=False)
    seconds = time.perf_counter() - started
    cpu = children_cpu() - cpu_before
    if done.returncode != 0:
        tail = (done.stdout[-OUTPUT_TAIL:] + b"\n--- stderr ---\n" + done.stderr[-OUTPUT_TAIL:])
        sys.stderr.write(f"bench_run: FAILED with exit code {done.returncode} in {cwd}:\n"
                         f"  {' '.join(command)}\n{tail.decode('utf-8', errors='replace')}\n")
        raise SystemExit(1)
    return seconds, cpu


def child_span(directory: Path) -> float:
    """Approximate wall time of one child: label.txt is written just before it starts."""
    started = (directory / "label.txt").stat().st_mtime
    ended = max(path.stat().st_mtime for path in directory.iterdir() if path.is_file())
    return max(0.0, ended - started)


def breakdown(project: Path, wall: float) -> dict[str, float]:
    """Where one wsdoctor run spent its time, from its run record and child directories."""
    runs_dir = project / STATE_DIR / "runs"
    run_dirs = sorted(runs_dir.iterdir())
    if len(run_dirs) != 1:
        raise SystemExit(f"bench_run: expected one run in {runs_dir}, found {len(run_dirs)}")
    record = json.loads((run_dirs[0] / "run.json").read_text(encoding="utf-8"))
    if record["status"] != "complete":
        raise SystemExit(f"bench_run: run record says {record['status']!r}, not 'complete'")
    children = [child for run in record["plan_results"] for child in run["children"]]
    by_context: dict[str, float] = {}
    for run in record["plan_results"]:
        context = run["plan"]["context"]
        by_context[context] = by_context.get(context, 0.0) + sum(c["seconds"] for c in run["children"])
    collect_dirs = [d for d in (run_dirs[0] / "children").iterdir() if d.name.split("-", 1)[1] == "collect"]
    return {
        "wall": wall,
        "session": float(record["seconds"]),  # from RunSession start to the last record save
        "collect_child": sum(child_span(d) for d in collect_dirs),
        "suite_children": by_context.get("suite", 0.0),
        "file_children": by_context.get("file", 0.0),
        "children": float(record["children_started"]),
        "children_in_runs": float(len(children)),
    }


def run_scenario(scenario: Scenario, python: str, project: Path) -> tuple[float, float, dict[str, float]]:
    if scenario.wsdoctor:
        shutil.rmtree(project / STATE_DIR, ignore_errors=True)
    seconds, cpu = run_checked((python, *scenario.argv), project)
    if not scenario.wsdoctor:
        return seconds, cpu, {}
    details = breakdown(project, seconds)
    shutil.rmtree(project / STATE_DIR, ignore_errors=True)
    return seconds, cpu, details


def measure(chosen: Sequence[Scenario], python: str, project: Path, rounds: int) -> list[Timings]:
    timings = [Timings(scenario) for scenario in chosen]
    for scenario in chosen[:3]:  # warm-up: bytecode caches, page cache
        run_scenario(scenario, python, project)
    for round_number in range(1, rounds + 1):
        for timing in timings:
            seconds, cpu, details = run_scenario(timing.scenario, python, project)
            timing.seconds.append(seconds)
            timing.cpu.append(cpu)
            if details:
                timing.breakdowns.append(details)
            print(f"  round {round_number}/{rounds}  ({timing.scenario.key}) {timing.scenario.label}: "
                  f"{seconds:.2f} s (cpu {cpu:.2f} s)", file=sys.stderr, flush=True)
    return timings


# --- reporting -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ratio:
    name: str
    numerator: str
    denominator: str
    target: float | None  # None: shown for reference

    def value(self, by_key: dict[str, Timings]) -> float:
        return by_key[self.numerator].median / by_key[self.denominator].median

    def value_of_minimums(self, by_key: dict[str, Timings]) -> float:
        return by_key[self.numerator].minimum / by_key[self.denominator].minimum

    def paired(self, by_key: dict[str, Timings]) -> float:
        """The median of each round's own ratio: both ran back to back, so a machine that
        slows down or speeds up between rounds (a shared VM does) moves both alike."""
        pairs = zip(by_key[self.numerator].seconds, by_key[self.denominator].seconds, strict=True)
        return statistics.median(n / d for n, d in pairs)


RATIOS = (Ratio("(b)/(a)", "b", "a", 1.15), Ratio("(b)/(p)", "b", "p", None),
          Ratio("(d)/(c)", "d", "c", 0.6))


def machine_info(python: str, project: Path) -> dict[str, Any]:
    probe = ("import json, platform, sys, pytest; print(json.dumps({'python': platform.python_version(), "
             "'pytest': pytest.__version__, 'executable': sys.executable}))")
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True,
                          env=child_environment(project))
    info: dict[str, Any] = json.loads(done.stdout)
    info.update(cpu_count=os.cpu_count(), platform=platform.platform(), machine=platform.machine(),
                load_average=[round(x, 2) for x in os.getloadavg()])
    return info


def print_machine(info: dict[str, Any], tests: int, files: int, rounds: int) -> None:
    print(f"Machine: {info['cpu_count']} CPUs, {info['platform']} ({info['machine']}); "
          f"Python {info['python']}, pytest {info['pytest']} ({info['executable']})")
    print(f"Load average before the benchmark: {info['load_average']} (other work on the machine skews "
          "wall times;\ncpu s, the CPU time of the command and its children, is less sensitive to it).")
    print(f"Suite: {tests} tests in {files} files, all passing; {rounds} round(s), median and min.\n")


def print_table(timings: Sequence[Timings]) -> None:
    print("| scenario | median s | min s | median cpu s |")
    print("|---|---:|---:|---:|")
    for timing in timings:
        print(f"| ({timing.scenario.key}) {timing.scenario.label} | {timing.median:.2f} | "
              f"{timing.minimum:.2f} | {statistics.median(timing.cpu):.2f} |")
    print()


def ratio_rows(by_key: dict[str, Timings]) -> list[dict[str, Any]]:
    rows = []
    for ratio in RATIOS:
        if ratio.numerator in by_key and ratio.denominator in by_key:
            paired = ratio.paired(by_key)
            rows.append({"ratio": ratio.name, "paired_ratio": round(paired, 3),
                         "median_ratio": round(ratio.value(by_key), 3),
                         "min_ratio": round(ratio.value_of_minimums(by_key), 3),
                         "target": ratio.target,
                         "pass": None if ratio.target is None else paired <= ratio.target})
    return rows


def print_ratios(rows: Sequence[dict[str, Any]]) -> None:
    print("| ratio | paired (median of rounds) | of medians | of mins | target | result |")
    print("|---|---:|---:|---:|---:|---|")
    for row in rows:
        print(f"| {row['ratio']} | {row['paired_ratio']:.2f} | {row['median_ratio']:.2f} | {row['min_ratio']:.2f} | "
              f"{_target_cells(row)} |")
    print()


def _target_cells(row: dict[str, Any]) -> str:
    if row["target"] is None:
        return "| reference"
    return f"<= {row['target']} | {'PASS' if row['pass'] else 'MISS'}"


def median_breakdown(timing: Timings) -> dict[str, float]:
    keys = timing.breakdowns[0].keys()
    return {key: round(statistics.median(b[key] for b in timing.breakdowns), 3) for key in keys}


def print_breakdowns(timings: Sequence[Timings]) -> None:
    print("Where wsdoctor's time goes (medians). outside session: interpreter start, imports, the "
          "probe of the\ninterpreter, the final report; child times are sums over children (they exceed "
          "the wall time\nwith 2 workers); the collect child's time is approximate, from its files' "
          "times.\n")
    print("| scenario | wall s | outside session s | session s | collect child s | suite child s "
          "| file children s | children |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for timing in timings:
        if not timing.breakdowns:
            continue
        b = median_breakdown(timing)
        print(f"| ({timing.scenario.key}) | {b['wall']:.2f} | {b['wall'] - b['session']:.2f} | "
              f"{b['session']:.2f} | {b['collect_child']:.2f} | {b['suite_children']:.2f} | "
              f"{b['file_children']:.2f} | {b['children']:.0f} |")
    print()


def json_document(info: dict[str, Any], args: argparse.Namespace, timings: Sequence[Timings],
                  rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        "machine": info,
        "suite": {"tests": args.tests, "files": args.files, "rounds": args.rounds},
        "scenarios": [{"key": t.scenario.key, "label": t.scenario.label,
                       "command": ["python", *t.scenario.argv], "seconds": [round(s, 3) for s in t.seconds],
                       "median": round(t.median, 3), "min": round(t.minimum, 3),
                       "cpu_seconds": [round(c, 3) for c in t.cpu],
                       "breakdown": median_breakdown(t) if t.breakdowns else None} for t in timings],
        "ratios": list(rows),
    }


# --- main ----------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tests", type=int, default=2000, help="tests in the generated suite")
    parser.add_argument("--files", type=int, default=100, help="test files they are spread over")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of every scenario")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter with pytest and wsdoctor (default: this one)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the numbers here")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="generate the project in DIR (new or empty) and keep it")
    parser.add_argument("--only", default="apbcd", help="scenario keys to run, e.g. 'ab'")
    args = parser.parse_args(argv)
    if args.files < 1 or args.tests < args.files or args.rounds < 1:
        parser.error("need --files >= 1, --tests >= --files and --rounds >= 1")
    return args


def benchmark(args: argparse.Namespace, project: Path) -> int:
    write_project(project, args.tests, args.files)
    info = machine_info(args.python, project)
    chosen = [s for s in scenarios() if s.key in args.only]
    print(f"bench_run: project in {project}", file=sys.stderr)
    timings = measure(chosen, args.python, project, args.rounds)
    rows = ratio_rows({t.scenario.key: t for t in timings})
    print_machine(info, args.tests, args.files, args.rounds)
    print_table(timings)
    print_ratios(rows)
    print_breakdowns(timings)
    if args.json is not None:
        args.json.write_text(json.dumps(json_document(info, args, timings, rows), indent=2) + "\n",
                             encoding="utf-8")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return in_work_dir(args.keep, "bench_run", lambda work: benchmark(args, work))


if __name__ == "__main__":
    sys.exit(main())
