"""`wsdoctor run`: start the run (wsdoctor.commands.run_start), then complete it
(wsdoctor.commands.run_session, imported once the suite child runs); `run --last`."""

from __future__ import annotations

from pathlib import Path

from wsdoctor.commands.run_start import Consoles, RunRequest, keep_interrupted, start_run
from wsdoctor.exits import ExitCode, run_exit
from wsdoctor.store import load_run


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
    """Show the newest record; exit with the code its run had."""
    from wsdoctor.render.terminal import render_run

    record = load_run(cwd)
    render_run(record, consoles()[0], f"{record.id}")
    return run_exit(record)
