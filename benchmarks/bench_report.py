"""`wsdoctor report --from-junit` on large CI artifacts: wall time, peak memory, insights.

Generates JUnit files the way `pytest --junitxml` writes them (a failure body of about 100
traceback lines each) and runs the real command on them:

* one signature: N failures of one assertion whose numbers differ (should be one insight);
* many signatures: N failures whose messages are all different words (bounded by the
  signature limit, then grouped by error type).

    python benchmarks/bench_report.py [N ...]      # default: 30000 300000
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BODY_LINES = 95


def write_junit(path: Path, failures: int, distinct: bool) -> None:
    body = "x = 1\n" * BODY_LINES
    with path.open("w", encoding="utf-8") as out:
        out.write(f'<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" '
                  f'failures="{failures}" tests="{failures}">')
        for n in range(failures):
            message = f"KeyError: room{chr(97 + n % 26)}{n:x}" if distinct else f"assert {n} == {n + 1}"
            out.write(f'<testcase classname="tests.test_m{n % 100}" name="test_{n}" time="0.001">'
                      f'<failure message="{message}">{body}E   {message}\n</failure></testcase>')
        out.write("</testsuite></testsuites>")


def measure(junit: Path, work: Path) -> tuple[float, float, int, int]:
    """Wall seconds, peak RSS in MB of the report process, insights, tests in them."""
    out = work / "report.json"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "wsdoctor", "report", "--from-junit", str(junit), "--out", str(out)],
                   cwd=work, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child so far, in kB
    insights = json.loads(out.read_text())["insights"]
    return seconds, max(peak, before) / 1024, len(insights), sum(len(i["tests"]) for i in insights)


def main(sizes: list[int]) -> None:
    print(f"load average {os.getloadavg()[0]:.1f}")
    print("| failures | signatures | file MB | wall s | peak RSS MB | insights | tests in insights |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        for size in sizes:
            for distinct in (False, True):
                junit = work / "ci.xml"
                write_junit(junit, size, distinct)
                megabytes = junit.stat().st_size / 1e6
                seconds, peak, insights, tests = measure(junit, work)
                print(f"| {size:,} | {'all different' if distinct else 'one'} | {megabytes:.0f} | {seconds:.1f} | "
                      f"{peak:.0f} | {insights} | {tests:,} |", flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [30_000, 300_000])
