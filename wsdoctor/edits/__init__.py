"""The edits of `wsdoctor fix`, made on concrete syntax trees (libcst): every comment, blank line and
quote of the file stays as it was; nothing is spliced into a file as text.

``apply_plan`` turns a candidate (wsdoctor.analysis.fix) into the new text of each file it changes;
``unified_diff`` shows it as a patch for ``git apply`` or ``patch -p1``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from wsdoctor.analysis.fix import (
    CandidatePlan,
    CleanerTeardown,
    FixtureTeardown,
    RestoreState,
    Rewrite,
    StubIntoFixture,
    split_nodeid,
)
from wsdoctor.edits.fixtures import ModuleOf, cleaner_teardown, restore_fixture
from wsdoctor.edits.rewrite import fixture_teardowns, rewrite_polluter
from wsdoctor.edits.stubs import stub_into_fixture
from wsdoctor.edits.syntax import EditError, FirstParty

Read = Callable[[str], str | None]  # a file of the project by its relative path; None: it does not exist

__all__ = ["EditError", "Project", "apply_plan", "unified_diff"]


@dataclass(frozen=True, slots=True)
class Project:
    """What the edits need to know of the project besides its files."""

    read: Read
    module_of: ModuleOf
    first_party: FirstParty
    module_source: Callable[[str], str | None] = lambda dotted: None  # a project module's text by its name
    importers: Callable[[str], list[str]] = lambda package: []  # the project's modules importing a package


def apply_plan(plan: CandidatePlan, project: Project) -> dict[str, str]:
    """The new text of every file the candidate changes (an edit of a file sees the earlier ones')."""
    texts: dict[str, str] = {}
    for edit in plan.edits:
        if isinstance(edit, FixtureTeardown):
            texts.update(fixture_teardowns(lambda path: texts.get(path) or project.read(path), edit.files,
                                           edit.function, project.module_source))
            continue
        current = texts.get(edit.path)
        if current is None:
            current = project.read(edit.path)
        if current is None and not isinstance(edit, RestoreState):
            raise EditError(f"{edit.path} is not in the project")
        texts[edit.path] = _applied(edit, current or "", project, texts)
    return texts


def _applied(edit: Rewrite | StubIntoFixture | RestoreState | CleanerTeardown, text: str, project: Project,
             texts: Mapping[str, str]) -> str:
    if isinstance(edit, Rewrite):
        return rewrite_polluter(text, edit.path, edit.function, edit.leaks, project.first_party)[0]
    if isinstance(edit, StubIntoFixture):
        return stub_into_fixture(text, edit.path, edit.keys, project.first_party, project.module_source,
                                 project.importers, edit.real_module)
    if isinstance(edit, RestoreState):
        return restore_fixture(text, edit.path, edit.leaks, edit.polluters, project.module_of,
                               project.first_party)
    cleaner_path, cleaner = split_nodeid(edit.cleaner)
    cleaner_text = texts.get(cleaner_path) or project.read(cleaner_path)
    if cleaner_text is None:
        raise EditError(f"{cleaner_path} is not in the project")
    return cleaner_teardown(text, edit.path, edit.polluters, cleaner_text, cleaner_path, cleaner, edit.statements,
                            project.first_party)


def unified_diff(changed: Mapping[str, str], read: Read) -> str:
    """``git diff``'s shape: a/ and b/ paths relative to the project, /dev/null for a new file."""
    parts = []
    for path, text in sorted(changed.items()):
        before = read(path)
        old = "/dev/null" if before is None else f"a/{path}"
        lines = difflib.unified_diff((before or "").splitlines(keepends=True), text.splitlines(keepends=True),
                                     fromfile=old, tofile=f"b/{path}")
        parts.append("".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                             for line in lines))
    return "".join(parts)
