"""`wsdoctor fix` on every victim the scenario suites list: which get a proven patch, of what kind,
how long fix takes, and, with the patch applied, whether plain pytest passes the failing order.

For each polluters entry of tests/scenarios/*/expected.yaml (and its variants), in a fresh copy of
the suite: `wsdoctor bisect VICTIM --json` (with the entry's bisect_args), then
`wsdoctor fix VICTIM` timed (wall and the children's CPU time); a proven patch is applied with
`git apply`, and `python -m pytest -p no:randomly ORDER` runs the failing order it was proven
against (fix.json's `order`) before and after: the victim must pass, and what else fails there
(other victims of the same suite, whose polluters are in that order too) must have failed before.
{WORKER_ORDER_FILE} in bisect_args is the order of the xdist worker the victim failed on, from a
`wsdoctor run` first. Prints one Markdown row per victim, and the load average before and after.

Usage: python benchmarks/bench_fix.py [--only SUITE,...] [--json FILE]

Only the standard library and PyYAML (wsdoctor's own dependency); every command is a subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

SCENARIOS = Path(__file__).resolve().parent.parent / "tests" / "scenarios"


def entries(only: set[str]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(SCENARIOS.glob("*/expected.yaml")):
        if only and path.parent.name not in only:
            continue
        expected = yaml.safe_load(path.read_text())
        for document in [expected, *(expected.get("variants") or [])]:
            found += [(path.parent.name, entry) for entry in document.get("polluters") or []]
    return found


def run(cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """A command, its wall time and its children's CPU time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")} | {"COLUMNS": "200"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return done, wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def one(name: str, entry: dict[str, Any], work: Path) -> dict[str, Any]:
    victim = entry.get("victim") or entry["victims"][0]
    row: dict[str, Any] = {"suite": name, "victim": victim}
    project = work / f"{name}-{victim.rsplit('::', 1)[-1]}"
    shutil.copytree(SCENARIOS / name, project, ignore=shutil.ignore_patterns("__pycache__", ".wsdoctor"))
    wsdoctor = (sys.executable, "-m", "wsdoctor")
    args = [worker_order(project, victim) if arg == "{WORKER_ORDER_FILE}" else arg
            for arg in entry.get("bisect_args", [])]
    bisected, row["bisect_s"], _ = run(project, *wsdoctor, "bisect", victim, "--json", "bisect.json", "--workers",
                                       "2", *args)
    row["bisect"] = json.loads((project / "bisect.json").read_text())["verdict"] if bisected.returncode < 2 else \
        f"exit {bisected.returncode}"
    fixed, row["fix_s"], row["fix_cpu_s"] = run(project, *wsdoctor, "fix", victim, "--workers", "2")
    record = next(project.glob(".wsdoctor/runs/*/fix.json"), None)
    data = json.loads(record.read_text()) if record else {}
    row["runs"] = data.get("runs")
    answer = next((c for c in data.get("candidates", []) if c["proven"] and c["whole_order"]),
                  next((c for c in data.get("candidates", []) if c["proven"]), None))
    if fixed.returncode != 0 or answer is None:
        return row | {"outcome": "reason: " + (data.get("reason") or fixed.stderr.strip().splitlines()[-1])}
    row |= {"outcome": f"proven ({answer['source']})", "patch": answer["title"], "files": answer["files"]}
    order = data.get("order") or []
    if entry.get("scope") == "file-import":  # its imports pollute: the whole suite, in its order
        order = []
    unpatched = project.with_name(project.name + "-unpatched")  # its run may leave files (a dotfile, a .env)
    shutil.copytree(project, unpatched, ignore=shutil.ignore_patterns("__pycache__", ".wsdoctor"))
    before = failures(unpatched, order, name)
    applied = subprocess.run(["git", "apply", "-"], input=fixed.stdout, cwd=project, capture_output=True, text=True)
    after = failures(project, order, name) if applied.returncode == 0 else {victim}
    others = after - {victim}
    another_cause = any("another cause" in step["detail"] for step in answer["steps"])
    if victim not in before:
        row["order_after"] = f"NOT REPRODUCED by plain pytest before the patch ({sorted(before)})"
    elif victim in after and another_cause and others <= before:
        row["order_after"] = "the victim still fails there for another cause, as fix said; nothing new fails"
    elif victim in after or not others <= before:
        row["order_after"] = f"FAILS: {sorted(after - before) or [victim]}"
    else:
        row["order_after"] = "passes" if not others else \
            f"victim passes; {len(others)} other victim(s) of other causes still fail, as before"
    return row


def worker_order(project: Path, victim: str) -> str:
    """The order of the xdist worker the victim failed on in a `wsdoctor run`, as a file."""
    run(project, sys.executable, "-m", "wsdoctor", "run", "--workers", "2")
    record = json.loads(next(project.glob(".wsdoctor/runs/*/run.json")).read_text())
    orders = [result["plan"]["test_ids"] for result in record["plan_results"]
              if result["plan"]["label"].startswith("suite gw")
              and any(r["nodeid"] == victim and r["outcome"] == "failed" for r in result["results"])]
    (project / "worker-order.txt").write_text("".join(f"{nodeid}\n" for nodeid in (orders or [[]])[0]))
    return "worker-order.txt"


def failures(project: Path, order: list[str], name: str) -> set[str]:
    """What plain pytest reports failed or in error when it runs ``order`` (its -rfE summary)."""
    extra = ["-n", "0"] if name == "xdist_addopts" else []
    if any("[" in nodeid.split("::", 1)[0] for nodeid in order):  # pytest's command line refuses such a path
        order = [*dict.fromkeys(n.split("::", 1)[0].rsplit("/", 1)[0] for n in order), "-k",
                 " or ".join(n.rsplit("::", 1)[-1] for n in order)]
    done, _, _ = run(project, sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:randomly", "-p",
                     "no:cacheprovider", *order, *extra)
    return {line.split(" ", 1)[1].split(" - ", 1)[0] for line in done.stdout.splitlines()
            if line.startswith(("FAILED ", "ERROR "))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="suites, comma-separated")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    load = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory(prefix="wsdoctor-bench-fix-") as work:
        for name, entry in entries({s for s in args.only.split(",") if s}):
            row = one(name, entry, Path(work))
            rows.append(row)
            print(f"| {row['suite']} | `{row['victim'].rsplit('::', 1)[-1]}` | {row['outcome']} | "
                  f"{row.get('fix_s', 0):.1f} s ({row.get('runs')} runs) | {row.get('order_after', '')} |",
                  flush=True)
    print(f"load average before {load[0]:.1f}, after {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
