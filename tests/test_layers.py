"""The rooms and what may be imported between them, read from the source (no import is run)."""

from __future__ import annotations

import sys
from pathlib import Path

from wsdoctor.execution.launch import stage_child_package
from wsdoctor.project_names import imported_modules

PACKAGE = Path(__file__).resolve().parent.parent / "wsdoctor"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside functions."""
    return imported_modules(path)


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


def module_graph() -> dict[str, set[str]]:
    """wsdoctor's modules (the demo suite aside) and the wsdoctor modules each imports."""
    paths = {module_name(path): path for path in source_files(PACKAGE)}
    return {name: {imported for imported in imports_of(path) if imported in paths} - {name}
            for name, path in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other, directly or round about (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        for imported in sorted(graph[name]):
            if imported not in index:
                visit(imported)
                low[name] = min(low[name], low[imported])
            elif imported in stack:
                low[name] = min(low[name], index[imported])
        if low[name] == index[name]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == name:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


def test_no_module_imports_itself_round_about() -> None:
    assert cycles(module_graph()) == []


def test_the_cycle_check_sees_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


DATA_AND_ANALYSIS = ("wsdoctor.records", "wsdoctor.text", "wsdoctor.analysis", "wsdoctor.evidence",
                     "wsdoctor.planner", "wsdoctor.childio", "wsdoctor.store", "wsdoctor.playbook",
                     "wsdoctor.errors", "wsdoctor.paths", "wsdoctor.config", "wsdoctor.baseline",
                     "wsdoctor.pyproject")
LAYERS = [
    # (who, must never import): one way only, from the command line down to the records
    (DATA_AND_ANALYSIS, ("wsdoctor.render", "wsdoctor.commands", "wsdoctor.cli")),
    (("wsdoctor.analysis",), ("wsdoctor.execution", "wsdoctor.store", "wsdoctor.collect", "wsdoctor.evidence",
                              "subprocess")),
    (("wsdoctor.render",), ("wsdoctor.execution", "wsdoctor.commands", "wsdoctor.store", "wsdoctor.cli")),
    (("wsdoctor.records",), ("wsdoctor.analysis", "wsdoctor.execution", "wsdoctor.playbook")),
]


def test_each_layer_imports_only_the_layers_below_it() -> None:
    broken = []
    for path in source_files(PACKAGE):
        name = module_name(path)
        for who, forbidden in LAYERS:
            if not name.startswith(who):
                continue
            broken += [f"{name} imports {imported}" for imported in sorted(imports_of(path))
                       if imported.startswith(forbidden)]
    assert broken == []


def test_only_the_execution_package_starts_processes() -> None:
    users = sorted(module_name(path) for path in source_files(PACKAGE) if "subprocess" in imports_of(path))
    assert all(user.startswith("wsdoctor.execution.") for user in users), users
