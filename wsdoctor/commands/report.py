"""`wsdoctor report`: insight reports from a run record, or from a CI artifact (postmortem)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from wsdoctor.analysis.insights import Insight, insights_for, versions_map
from wsdoctor.analysis.patterns import BoundedMatcher
from wsdoctor.codec import write_atomic
from wsdoctor.commands.request import check_output_directory, check_output_file
from wsdoctor.config import load_config
from wsdoctor.evidence import from_bisect, from_json_report, from_junit, from_run
from wsdoctor.exits import ExitCode, UsageError
from wsdoctor.playbook import Playbook, load_all
from wsdoctor.records import BisectRecord, FixResult, Record, TestEvidence, Versions
from wsdoctor.render.report import html_page, json_text, markdown_document, render_terminal, write_markdown
from wsdoctor.store import RECORD_FILES, bisects_from, find_record, load_fix, load_record, load_run


class ReportFormat(str, enum.Enum):
    terminal = "terminal"
    markdown = "markdown"
    html = "html"
    json = "json"


_FORMAT_OF_SUFFIX = {".md": ReportFormat.markdown, ".markdown": ReportFormat.markdown,
                     ".html": ReportFormat.html, ".htm": ReportFormat.html, ".json": ReportFormat.json}


def chosen_format(given: str | None, out: Path | None) -> ReportFormat:
    """--format as given, else inferred from --out; never an option ignored in silence."""
    if given is not None:
        try:
            chosen = ReportFormat(given)
        except ValueError:
            raise UsageError(f"--format {given!r}: use terminal, markdown, html or json") from None
        if chosen is ReportFormat.terminal and out is not None:
            raise UsageError(f"--out {out}: the terminal format prints to the screen; "
                             "write a file with --format markdown, html or json")
        return chosen
    if out is None:
        return ReportFormat.terminal
    if out.is_dir() or not out.suffix:
        return ReportFormat.markdown  # a directory: an index and one page per insight
    inferred = _FORMAT_OF_SUFFIX.get(out.suffix.lower())
    if inferred is None:
        raise UsageError(f"--out {out}: cannot tell the format from {out.suffix!r}; name a directory or a "
                         ".md, .html or .json file, or give --format markdown, html or json")
    return inferred


@dataclass(frozen=True, slots=True)
class ReportRequest:
    cwd: Path
    record_id: str | None = None  # a run or a bisect; None: the newest
    format: ReportFormat = ReportFormat.terminal
    out: Path | None = None
    from_junit: Path | None = None
    from_json_report: Path | None = None
    playbook_dirs: tuple[Path, ...] = ()


def report_command(request: ReportRequest, out: Console, err: Console) -> ExitCode:
    from wsdoctor.analysis.fix import with_proven_patches  # not for ci, which shares this module's loaders

    _check_out(request)
    playbooks = load_playbooks(request.cwd, request.playbook_dirs)
    evidence, versions, title, fixes = _evidence(request)
    matcher = BoundedMatcher()
    insights = with_proven_patches(insights_for(evidence, playbooks, versions, matcher), fixes)
    _write(insights, request, title, out)
    for pattern, playbook in matcher.overran.items():
        err.print(f"wsdoctor: warning: playbook {playbook}: the pattern {pattern!r} took over "
                  f"{matcher.seconds} s on one text and was not tried again, so the playbook may have missed "
                  "a match; `wsdoctor playbooks validate` shows why", markup=False, highlight=False)
    return ExitCode.OK


def load_playbooks(cwd: Path, extra: Sequence[Path]) -> list[Playbook]:
    dirs = [*configured_dirs(cwd), *extra]
    for directory in dirs:
        if not directory.is_dir():
            raise UsageError(f"playbook directory {directory} does not exist")
    playbooks, problems = load_all(dirs)
    errors = [problem for problem in problems if not problem.warning]
    if errors:
        raise UsageError(f"{errors[0]} ({len(errors)} problem(s); `wsdoctor playbooks validate` "
                         "lists them all)")
    return playbooks


def configured_dirs(cwd: Path) -> list[Path]:
    """`[tool.wsdoctor] playbooks = [...]` in the project's pyproject.toml."""
    return list(load_config(cwd).playbooks)


def _evidence(request: ReportRequest) -> tuple[list[TestEvidence], dict[str, str], str, list[FixResult]]:
    if request.from_junit and request.from_json_report:
        raise UsageError("give one of --from-junit and --from-json-report")
    for artifact, reader in ((request.from_junit, from_junit), (request.from_json_report, from_json_report)):
        if artifact is not None:
            if not artifact.exists():
                raise UsageError(f"no such file: {artifact}")
            return reader(artifact), {}, f"wsdoctor postmortem of {artifact.name}", []
    path = _record_path(request)
    record = _reported(request, load_record(path))
    known = _versions(record.versions)
    if isinstance(record, BisectRecord):
        if record.result is None:
            raise UsageError(f"bisect {record.id} has no result ({record.status.value}); "
                             f"`wsdoctor bisect {record.options.victim} --resume` finishes it")
        fixes = [fix for fix in [load_fix(path.parent)] if fix is not None]
        return from_bisect(record), known, f"wsdoctor report of bisect {record.id}", fixes
    bisects = bisects_from(path.parent.parent, record.id)
    later = [b.result for b in bisects if b.result is not None]
    fixes = [fix for b in bisects for fix in [load_fix(path.parent.parent / b.id)] if fix is not None]
    return from_run(record, later), known, f"wsdoctor report of run {record.id}", fixes


def _record_path(request: ReportRequest) -> Path:
    """The record of an id in .wsdoctor/runs, or at a path: a CI job's artifact (its run.json, or the
    directory that holds it) read where it was downloaded."""
    given = request.cwd / request.record_id if request.record_id else None
    if given is not None and given.is_file():
        return given
    for name in RECORD_FILES.values():
        if given is not None and (given / name).is_file():
            return given / name
    return find_record(request.cwd, request.record_id)


def _reported(request: ReportRequest, record: Record) -> Record:
    """The newest record, except that a bisect started from a run is reported with its run."""
    if request.record_id is None and isinstance(record, BisectRecord) and record.options.from_run:
        try:
            return load_run(request.cwd, record.options.from_run)
        except UsageError:  # the run was removed: the bisect alone, then
            return record
    return record


def _check_out(request: ReportRequest) -> None:
    """--out is written at the end: what cannot take it is bad input now, not an internal error then."""
    if request.out is None:
        return
    if request.format is ReportFormat.markdown and not _is_markdown_file(request.out):
        check_output_directory(request.out, "--out", request.cwd)  # one page per insight, and an index
    else:
        check_output_file(request.out, "--out", request.cwd)


def _is_markdown_file(out: Path | None) -> bool:
    """`--out report.md`: one Markdown file; any other path is a directory of pages."""
    return out is not None and not out.is_dir() and out.suffix.lower() in (".md", ".markdown")


def _versions(versions: Versions | None) -> dict[str, str]:
    return versions_map(versions.python, versions.pytest, versions.packages) if versions else {}


def _write(insights: list[Insight], request: ReportRequest, title: str, out: Console) -> None:
    if request.format is ReportFormat.terminal:
        render_terminal(insights, out, title)
    elif request.format is ReportFormat.markdown and _is_markdown_file(request.out):
        assert request.out is not None
        write_atomic(request.out, markdown_document(insights, title))
        out.print(f"{len(insights)} insight(s): {request.out}", highlight=False)
    elif request.format is ReportFormat.markdown:
        index = write_markdown(insights, request.out or request.cwd / "wsdoctor-report", title)
        out.print(f"{len(insights)} insight(s): {index}", highlight=False)
    else:
        text = html_page(insights, title) if request.format is ReportFormat.html else json_text(insights)
        if request.out is None:
            out.file.write(text)
        else:
            write_atomic(request.out, text)
            out.print(f"{len(insights)} insight(s): {request.out}", highlight=False)
