"""The staged child package (wsdoctor.execution.launch): one directory per content in .wsdoctor/child/,
written whole and reused; pruned when no record names it; and which commands start their first
children before the command line is read (wsdoctor.execution.prestart.early_children)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.conftest import make_project
from wsdoctor.execution.launch import STAGING_PREFIX, child_package_files, staged_child_package
from wsdoctor.execution.prestart import early_children
from wsdoctor.paths import PACKAGE_REFERENCE, PACKAGES_DIR, STATE_DIR
from wsdoctor.store import LIVE_FOR, prune


def copy_of_the_child_package(target: Path) -> Path:
    target.mkdir(parents=True)
    for name, data in child_package_files().items():
        (target / name).write_bytes(data)
    return target


def test_the_package_is_staged_once_and_reused(tmp_path: Path) -> None:
    packages = tmp_path / STATE_DIR / PACKAGES_DIR
    first = staged_child_package(packages)
    entry = first / "wsdoctor" / "child" / "__main__.py"
    written = entry.stat().st_ino
    again = staged_child_package(packages)
    assert again == first and entry.stat().st_ino == written  # not written again
    assert [p.name for p in packages.iterdir()] == [first.name]  # no staging directory left
    assert entry.read_bytes() == child_package_files()["__main__.py"]


def test_a_changed_package_is_staged_beside_under_another_digest(tmp_path: Path) -> None:
    packages = tmp_path / "packages"
    source = copy_of_the_child_package(tmp_path / "source")
    before = staged_child_package(packages, source)
    (source / "plugin.py").write_bytes((source / "plugin.py").read_bytes() + b"\n# changed\n")
    after = staged_child_package(packages, source)
    assert after != before and before.is_dir()
    assert (after / "wsdoctor" / "child" / "plugin.py").read_bytes().endswith(b"# changed\n")
    assert staged_child_package(packages, source) == after


def test_of_two_stagings_at_once_the_one_renamed_second_uses_the_first(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Another wsdoctor renames its staging into place between this one's check and its rename."""
    packages = tmp_path / "packages"
    rename = os.rename

    def the_other_one_first(source: str, target: str) -> None:
        monkeypatch.setattr(os, "rename", rename)
        staged_child_package(packages)  # the other wsdoctor, staging the same package
        rename(source, target)  # raises: the target is there, whole

    monkeypatch.setattr(os, "rename", the_other_one_first)
    staged = staged_child_package(packages)
    assert [p.name for p in packages.iterdir()] == [staged.name]
    assert (staged / "wsdoctor" / "child" / "__main__.py").is_file()


def record_naming(project: Path, record_id: str, package: str) -> None:
    directory = project / STATE_DIR / "runs" / record_id
    directory.mkdir(parents=True)
    (directory / PACKAGE_REFERENCE).write_text(package + "\n")
    then = time.time() - LIVE_FOR - 60  # long done (it has no run.json: young, it would be one being made)
    os.utime(directory, (then, then))


def package(project: Path, name: str, age: float) -> Path:
    directory = project / STATE_DIR / PACKAGES_DIR / name
    (directory / "wsdoctor").mkdir(parents=True)
    (directory / "wsdoctor" / "__init__.py").write_text("x" * 100)
    then = time.time() - age
    os.utime(directory, (then, then))
    return directory


def test_pruning_removes_the_packages_no_kept_record_names_unless_used_lately(tmp_path: Path) -> None:
    old = LIVE_FOR + 60
    record_naming(tmp_path, "20260101-000100-abcd", "named-by-a-pruned-run")
    record_naming(tmp_path, "20260101-000200-abcd", "named")
    kept_package = package(tmp_path, "named", old)
    pruned_package = package(tmp_path, "named-by-a-pruned-run", old)
    recent = package(tmp_path, "staged-a-moment-ago", 5)  # by a wsdoctor whose record does not name it yet
    forgotten = package(tmp_path, STAGING_PREFIX + "left-by-a-killed-wsdoctor", old)
    pruned = prune(tmp_path / STATE_DIR / "runs", keep=1)
    assert pruned.removed == ("20260101-000100-abcd",)
    assert kept_package.is_dir() and recent.is_dir()
    assert not pruned_package.exists() and not forgotten.exists()
    assert pruned.freed_bytes >= 200


@pytest.mark.parametrize(("argv", "children"), [
    (["wsdoctor", "ci"], min(2, os.cpu_count() or 1)),
    (["wsdoctor", "ci", "--workers", "2", "tests"], 2),
    (["wsdoctor", "ci", "--workers=1"], 1),
    (["wsdoctor", "ci", "--workers", "2", "--", "--python"], 2),  # pytest's, not wsdoctor's
    (["wsdoctor", "ci", "--python", "python3.12"], 0),
    (["wsdoctor", "ci", "--python=python3.12"], 0),
    (["wsdoctor", "ci", "--help"], 0),
    (["wsdoctor", "run"], 1),
    (["wsdoctor", "run", "--shuffle", "3", "--workers", "2"], 1),
    (["wsdoctor", "run", "--last"], 0),
    (["wsdoctor", "bisect", "ci"], 0),
    (["wsdoctor"], 0),
])
def test_which_command_lines_start_children_early(tmp_path: Path, argv: list[str], children: int) -> None:
    assert early_children(argv, tmp_path) == children


@pytest.mark.parametrize(("pyproject", "early"), [
    ('[tool.poetry.dependencies]\npython = "^3.10"\n\n[tool.wsdoctor]\nworkers = 2\n', True),
    ('[tool.wsdoctor]\nworkers = 2\npython = ".venv/bin/python"\n', False),
    ('[tool]\nwsdoctor.python = ".venv/bin/python"\n', False),
    ('[tool.wsdoctor]\n"python" = ".venv/bin/python"\n', False),  # a quoted key is the same key
    ('[tool.wsdoctor\nworkers = 2\n', False),  # unreadable: the command says why, its children start as usual
])
def test_an_interpreter_in_the_configuration_starts_no_child_early(tmp_path: Path, pyproject: str,
                                                                   early: bool) -> None:
    project = make_project(tmp_path / "project", {"pyproject.toml": pyproject, "tests/deep/x.py": ""})
    assert (early_children(["wsdoctor", "ci", "--workers", "2"], project / "tests" / "deep") == 2) is early


def test_turned_off_no_child_starts_early(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WSDOCTOR_PRESTART", "0")
    assert early_children(["wsdoctor", "ci", "--workers", "2"], tmp_path) == 0
