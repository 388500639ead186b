"""Benchmark the gate: `wsdoctor ci` with its default plan against plain pytest, on a clean suite.

The suite is bench_run's generated one (all tests pass, so ci runs its default plan and nothing
more: the suite order with the audit's probes, one shuffled order beside it, no second looks, no
bisect). Scenarios, each timed with time.perf_counter over --rounds rounds (interleaved):

  a. python -m pytest -q                                 (the baseline, as a user runs it)
  b. python -m wsdoctor ci --seed 1 --workers 2          (the gate, on the 2 cores of the machine)

Target: (b) / (a) <= 1.3, judged on the median of each round's own ratio (a round's scenarios
run back to back and share the machine's drift). The gate must exit 0 (a clean suite passes).

Usage: python benchmarks/bench_ci.py [--tests 2000] [--files 100] [--rounds 5] [--python PATH]
                                      [--json FILE] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench_common import in_work_dir  # next to this script: run it as a file
from bench_run import STATE_DIR, machine_info, run_checked, write_project

TARGET = 1.3
SCENARIOS = {"a": ("pytest -q (baseline)", ("-m", "pytest", "-q")),
             "b": ("wsdoctor ci --seed 1 --workers 2", ("-m", "wsdoctor", "ci", "--seed", "1", "--workers", "2"))}


def one_round(python: str, project: Path) -> dict[str, tuple[float, float]]:
    timed = {}
    for key, (_, argv) in SCENARIOS.items():
        shutil.rmtree(project / STATE_DIR, ignore_errors=True)
        timed[key] = run_checked((python, *argv), project)
    return timed


def gate_breakdown(project: Path) -> dict[str, float]:
    """Where the last gate's time went: its suite children, from its run record."""
    [record_file] = (project / STATE_DIR / "runs").glob("*/run.json")
    record = json.loads(record_file.read_text(encoding="utf-8"))
    return {run["plan"]["label"]: round(sum(c["seconds"] for c in run["children"]), 2)
            for run in record["plan_results"]} | {"session": record["seconds"]}


def benchmark(args: argparse.Namespace, project: Path) -> int:
    write_project(project, args.tests, args.files)
    info = machine_info(args.python, project)
    print(f"bench_ci: project in {project}", file=sys.stderr)
    one_round(args.python, project)  # warm-up: bytecode, page cache
    rounds = []
    for number in range(1, args.rounds + 1):
        timed = one_round(args.python, project)
        rounds.append(timed)
        print(f"  round {number}/{args.rounds}: pytest {timed['a'][0]:.2f} s, ci {timed['b'][0]:.2f} s "
              f"({timed['b'][0] / timed['a'][0]:.2f}x)", file=sys.stderr, flush=True)
    ratios = [r["b"][0] / r["a"][0] for r in rounds]
    paired = statistics.median(ratios)
    print(f"Machine: {info['cpu_count']} CPUs, {info['platform']}; Python {info['python']}, pytest {info['pytest']}")
    print(f"Load average before: {info['load_average']}")
    print(f"Suite: {args.tests} tests in {args.files} files, all passing; {args.rounds} rounds.\n")
    print("| scenario | median s | min s | median cpu s |")
    print("|---|---:|---:|---:|")
    for key, (label, _) in SCENARIOS.items():
        seconds = [r[key][0] for r in rounds]
        cpu = [r[key][1] for r in rounds]
        print(f"| ({key}) {label} | {statistics.median(seconds):.2f} | {min(seconds):.2f} | "
              f"{statistics.median(cpu):.2f} |")
    verdict = "PASS" if paired <= TARGET else "MISS"
    print(f"\n(b)/(a), the median of the rounds' own ratios: {paired:.2f} (rounds: "
          f"{', '.join(f'{r:.2f}' for r in ratios)}); target <= {TARGET}: {verdict}")
    breakdown = gate_breakdown(project)
    print(f"The last gate's children (s): {breakdown}")
    if args.json is not None:
        document: dict[str, Any] = {"machine": info, "suite": {"tests": args.tests, "files": args.files},
                                    "rounds": [{k: {"seconds": round(v[0], 3), "cpu": round(v[1], 3)}
                                                for k, v in r.items()} for r in rounds],
                                    "paired_ratio": round(paired, 3), "target": TARGET, "breakdown": breakdown}
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--json", type=Path, metavar="FILE")
    parser.add_argument("--keep", type=Path, metavar="DIR")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return in_work_dir(args.keep, "bench_ci", lambda work: benchmark(args, work))


if __name__ == "__main__":
    sys.exit(main())
