"""`wsdoctor demo`: run wsdoctor on its bundled WebSocket demo suite."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from wsdoctor.commands.report import ReportRequest, report_command
from wsdoctor.commands.request import check_output_directory
from wsdoctor.commands.run import run_suite
from wsdoctor.commands.run_start import RunRequest
from wsdoctor.exits import ExitCode, UsageError, WsdoctorError
from wsdoctor.records import RunOptions

SUITE = Path(__file__).resolve().parent.parent / "demo" / "suite"
DEMO_NEEDS = ("websockets", "pytest_asyncio")


def run_demo(target: Path | None, workers: int, out: Console, err: Console) -> ExitCode:
    _check_demo_dependencies()
    if target is not None and target.exists() and not target.is_dir():
        raise UsageError(f"--dir {target} is a file: give --dir a new or empty directory")
    if target is not None and any(target.iterdir() if target.exists() else ()):
        raise UsageError(f"--dir {target} is not empty: give --dir a new or empty directory")
    if target is not None:  # made if missing: under a file, or where nothing can be made, it cannot be
        check_output_directory(target, "--dir", Path.cwd())
    directory = target or Path(tempfile.mkdtemp(prefix="wsdoctor-demo-"))
    shutil.copytree(SUITE, directory, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".wsdoctor"))
    err.print(f"demo suite copied to {directory}: a WebSocket app whose tests pollute each other\n",
              highlight=False)
    options = RunOptions(paths=(), pytest_args=(), python=sys.executable, workers=workers, timeout=30.0,
                         bisect=True)
    code = run_suite(RunRequest(options=options, cwd=directory), lambda: (out, err))
    if code is ExitCode.OK:  # a bug of wsdoctor's: exit 3
        raise WsdoctorError("the demo suite is polluted on purpose, yet nothing was found")
    if code is not ExitCode.FINDINGS:
        return code
    out.rule("insight report")
    report_command(ReportRequest(cwd=directory), out, err)
    out.print(f"\nThe demo suite is in {directory}: cd there and run the commands above, "
              "`wsdoctor run --last` or `wsdoctor report --format html --out report.html`.", highlight=False)
    return ExitCode.OK


def _check_demo_dependencies() -> None:
    import importlib.util

    missing = [name for name in DEMO_NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(f"the demo suite needs {', '.join(missing)}: pip install 'wsdoctor[demo]'")
