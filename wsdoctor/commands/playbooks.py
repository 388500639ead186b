"""`wsdoctor playbooks list | show ID | validate [PATH]`."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from wsdoctor.commands.report import configured_dirs
from wsdoctor.exits import ExitCode, UsageError, problems_exit
from wsdoctor.playbook import find, load_all, load_file


def list_playbooks(cwd: Path, extra: tuple[Path, ...], out: Console) -> ExitCode:
    playbooks, problems = load_all([*configured_dirs(cwd), *extra])
    table = Table(title=f"{len(playbooks)} playbook(s)", title_justify="left")
    for column in ("id", "#", "confidence", "title", "source"):
        table.add_column(column, overflow="fold")
    for playbook in playbooks:
        table.add_row(playbook.id, str(playbook.catalogue or ""), playbook.confidence.value, playbook.title,
                      Path(playbook.source).parent.name)
    out.print(table)
    for problem in problems:
        out.print(f"[red]{problem}[/]", highlight=False)
    return problems_exit(problems)


def show_playbook(cwd: Path, playbook_id: str, extra: tuple[Path, ...], out: Console) -> ExitCode:
    playbooks, _ = load_all([*configured_dirs(cwd), *extra])
    playbook = find(playbooks, playbook_id)
    if playbook is None:
        known = ", ".join(p.id for p in playbooks)
        raise UsageError(f"no playbook {playbook_id!r}; `wsdoctor playbooks list` shows them ({known})")
    out.print(Path(playbook.source).read_text(encoding="utf-8"), markup=False, highlight=False)
    return ExitCode.OK


def validate_playbooks(paths: tuple[Path, ...], cwd: Path, out: Console) -> ExitCode:
    files = []
    for path in paths or (cwd / "playbooks",):
        if not path.exists():
            raise UsageError(f"no such file or directory: {path}")
        files += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    problems = [problem for file in files for problem in load_file(file)[1]]
    for problem in problems:
        out.print(str(problem), markup=False, highlight=False)
    out.print(f"{len(files)} playbook file(s), {len(problems)} problem(s)", highlight=False)
    return problems_exit(problems)
