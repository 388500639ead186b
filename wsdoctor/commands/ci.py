"""`wsdoctor ci`: gate a build. The run's machinery (the suite order and one shuffled order, with
the audit's probes; second looks), bisects of the new order-dependent victims within --budget,
playbooks, then the gate against the baseline, and what CI systems read (JUnit XML, the job's
Markdown summary, GitHub annotations); wsdoctor.commands.ci_session does it all once the first
children run. This module is kept light: they start before the analysis and rich are imported.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Mapping
from pathlib import Path

from wsdoctor.baseline import read_baseline
from wsdoctor.commands.ci_request import CiRequest, check_outputs
from wsdoctor.commands.run_start import Consoles, RunRequest, keep_interrupted, start_run
from wsdoctor.exits import ExitCode, UsageError
from wsdoctor.records import RunRecord
from wsdoctor.store import RECORD_FILE, load_record

# Where CI systems say which pipeline this is: the seed of the shuffled order follows it, so it
# differs between pipelines and is the same for every shard of one pipeline.
CI_RUN_IDS = (("GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT"), ("CI_PIPELINE_ID",), ("BUILDKITE_BUILD_ID",),
              ("CIRCLE_WORKFLOW_ID",), ("BUILD_TAG",), ("BUILD_BUILDID",), ("TRAVIS_BUILD_ID",))


def seed_of(given: int | None, environment: Mapping[str, str]) -> tuple[int, str]:
    """The shuffled order's seed and where it came from."""
    if given is not None:
        return given, "--seed"
    for names in CI_RUN_IDS:
        if environment.get(names[0]):
            value = "/".join(environment.get(name, "") for name in names)
            digest = hashlib.sha256(value.encode()).hexdigest()
            return int(digest[:8], 16), f"from {names[0]} {value}"
    return secrets.randbelow(2**32), "chosen at random: no CI run id in the environment"


def ci_command(request: CiRequest, consoles: Consoles) -> ExitCode:
    """Bad input is found before any child starts; the playbooks are read while the first children run."""
    baseline = read_baseline(request.gate.baseline, must_exist=request.gate.baseline_named)
    durations = _durations(request.durations_from)
    check_outputs(request.outputs, request.cwd)
    seed, source = seed_of(request.seed, request.environment)
    options = dataclasses.replace(request.options, shuffle=seed, audit=True, bisect=False)
    start = start_run(RunRequest(options=options, cwd=request.cwd, python_given=request.python_given),
                      discover=request.shard is None)
    try:
        from wsdoctor.commands.ci_session import CiStart, complete_ci

        return complete_ci(CiStart(start, request, baseline, durations, seed, source), *consoles())
    except KeyboardInterrupt:
        return keep_interrupted(start)
    finally:
        start.executor.kill_all()


def _durations(path: Path | None) -> dict[str, float]:
    """Each test's duration in a previous run record (--durations-from), to balance the shards."""
    if path is None:
        return {}
    from wsdoctor.analysis.shards import test_durations

    file = path / RECORD_FILE if path.is_dir() else path
    if not file.exists():
        raise UsageError(f"--durations-from {path}: no run record there (give a run.json or its directory)")
    record = load_record(file)
    if not isinstance(record, RunRecord):
        raise UsageError(f"--durations-from {path} is a {record.kind.value}, not a run")
    return test_durations(record)

