"""The rooms and what may be imported between them, read from the source (no import is run)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from wsdoctor.execution.child import stage_child_package

PACKAGE = Path(__file__).resolve().parent.parent / "wsdoctor"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def source_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "demo" not in p.relative_to(PACKAGE).parts)


def test_the_child_side_imports_only_pytest_the_standard_library_and_itself() -> None:
    for path in source_files(PACKAGE / "child"):
        for name in imports_of(path):
            top = name.split(".")[0]
            allowed = top in sys.stdlib_module_names or top == "pytest" or name.startswith("wsdoctor.child")
            assert allowed, f"{module_name(path)} imports {name}"


def test_the_staged_child_path_holds_the_child_package_and_nothing_of_the_parent(tmp_path: Path) -> None:
    staged = stage_child_package(tmp_path / "child-path")
    files = sorted(str(p.relative_to(staged)) for p in staged.rglob("*") if p.is_file())
    child_files = sorted(f"wsdoctor/child/{p.name}" for p in (PACKAGE / "child").glob("*.py"))
    expected = ["wsdoctor/__init__.py", *child_files]
    assert files == expected
    assert "import" not in (staged / "wsdoctor" / "__init__.py").read_text()
