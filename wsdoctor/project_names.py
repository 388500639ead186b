"""Names from the user's own code, for advice: the leaked module, object and attribute, the polluter's
file, the module of the project that imports a stubbed package (the parsing edge: reads the sources).

A playbook's solution is copied by whoever reads it, so it must name the user's code, not an
example's. Every name here comes from evidence (a bisect's leaked state and polluters, the
victim's imports); where the evidence has none, the template falls back to a generic placeholder.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from pathlib import Path

from wsdoctor.analysis.templates import Value
from wsdoctor.records import StateChange, StaticFinding, TestEvidence

Facts = tuple[tuple[str, Value], ...]
_NOT_SOURCES = frozenset({"__pycache__", "node_modules", "site-packages", "venv", "env", "build", "dist"})


class ProjectSources:
    """The project's Python files, found under its roots (the working directory, the rootdir, src/)."""

    def __init__(self, roots: Sequence[Path]) -> None:
        self.roots = [root for root in dict.fromkeys([*roots, *(r / "src" for r in roots)]) if root.is_dir()]
        self._imports: dict[Path, set[str]] = {}

    def module_file(self, dotted: str) -> Path | None:
        relative = Path(*dotted.split("."))
        for root in self.roots:
            for candidate in (root / relative.with_suffix(".py"), root / relative / "__init__.py"):
                if candidate.is_file():
                    return candidate
        return None

    def file(self, relative: str) -> Path | None:
        return next((root / relative for root in self.roots if (root / relative).is_file()), None)

    def importers_of(self, package: str) -> list[Path]:
        """The project's Python files that import ``package`` or one of its submodules (not its tests,
        virtual environments or caches), in path order."""
        found = []
        for root in self.roots:
            for path in sorted(root.rglob("*.py")):
                parts = path.relative_to(root).parts
                if any(part.startswith(".") or part in _NOT_SOURCES for part in parts[:-1]):
                    continue
                if any(name == package or name.startswith(package + ".") for name in self.imports(path)):
                    found.append(path)
        return list(dict.fromkeys(found))

    def imports(self, path: Path) -> set[str]:
        """The modules a file imports (absolute names), read once."""
        if path not in self._imports:
            self._imports[path] = imported_modules(path)
        return self._imports[path]


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports (absolute imports, at its top or inside functions); none if it does not parse."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def names_for(item: TestEvidence, project: ProjectSources) -> Facts:
    facts: dict[str, Value] = {}
    victim_file, _, victim_rest = item.nodeid.partition("::")
    if victim_rest:
        facts.update(victim_file=victim_file, victim_test=_function(victim_rest))
    if item.polluters:
        polluter_file, _, polluter_rest = item.polluters[0].partition("::")
        facts["polluter_file"] = polluter_file
        if polluter_rest:
            facts["polluter_test"] = _function(polluter_rest)
    if item.leaked:
        facts.update(_leak_names(item.leaked[0], item.leaked, project, victim_file))
    if item.static:
        facts.update(_static_names(item.static))
    return tuple(facts.items())


_MOCK_CHECK = re.compile(r"assert\s+(?:not\s+)?(?P<target>[\w.\[\]'\"]+)\.(?P<check>\w+)\((?P<args>.*)\)\s*(?:,.*)?$")


def _static_names(findings: Sequence[StaticFinding]) -> dict[str, Value]:
    """The offending line, and for `assert m.x.called_once()` the mock and the check it meant."""
    first = findings[0]
    names: dict[str, Value] = {"static_code": first.code, "static_at": f"{first.path}:{first.line}"}
    check = next((f for f in findings if f.id == "called-once-assertion"), None)
    found = _MOCK_CHECK.match(check.code) if check else None
    if found:
        names.update(mock_target=found["target"], mock_check=found["check"], mock_args=found["args"],
                     mock_method=found["target"].rsplit(".", 1)[-1])
    return names


def _function(rest: str) -> str:
    """A node id's test function: `TestX::test_y[param]` -> test_y."""
    return rest.rsplit("::", 1)[-1].split("[", 1)[0]


def _leak_names(leak: StateChange, leaks: Sequence[StateChange], project: ProjectSources,
                victim_file: str) -> dict[str, Value]:
    if leak.kind == "environ":
        return {"env_var": leak.name}
    if leak.kind == "sys.modules":
        return _stub_names(leak.name, project, victim_file)
    if leak.kind not in ("module-attr", "class-attr"):
        return {}
    module, rest = _split_module(leak.name, project, leak.kind)
    if not module or not rest:
        return {"leaked_path": leak.name}
    owner, attribute = rest[0], rest[1:]
    names: dict[str, Value] = {"leaked_path": leak.name, "leaked_module": module,
                               "leaked_class" if leak.kind == "class-attr" else "leaked_object": owner}
    names.update(_attribute_owner(module, owner, attribute))
    if leak.kind == "class-attr":
        names["leaked_object"] = owner
    if attribute:
        prefix = f"{module}.{owner}."
        siblings = [c.name[len(prefix):] for c in leaks if c.kind == leak.kind and c.name.startswith(prefix)]
        names["leaked_attribute"] = tuple(dict.fromkeys(s for s in siblings if s and "." not in s)) or ".".join(
            attribute)
    return names


def _attribute_owner(module: str, owner: str, attribute: list[str]) -> dict[str, Value]:
    """What to import and hand to ``monkeypatch.setattr(owner, "name", ...)`` to restore the leaked name."""
    if not attribute:  # a module global: the module owns it
        return {"attr_owner_import": f"import {module}", "attr_owner": module, "attr_name": owner}
    owner_path = ".".join([owner, *attribute[:-1]])
    return {"attr_owner_import": f"from {module} import {owner}", "attr_owner": owner_path,
            "attr_name": attribute[-1]}


def _split_module(name: str, project: ProjectSources, kind: str) -> tuple[str, list[str]]:
    """``app.ws.manager.active_connections`` -> (``app.ws``, [``manager``, ``active_connections``])."""
    parts = name.split(".")
    for end in range(len(parts) - 1, 0, -1):
        if project.module_file(".".join(parts[:end])) is not None:
            return ".".join(parts[:end]), parts[end:]
    if kind == "class-attr":  # not a file of the project: the class is the first capitalised part
        first_class = next((i for i, part in enumerate(parts) if part[:1].isupper()), 0)
        if first_class:
            return ".".join(parts[:first_class]), parts[first_class:]
    return "", []


def _stub_names(stubbed: str, project: ProjectSources, victim_file: str) -> dict[str, Value]:
    """The stubbed package, and the project module the victim imports that imports it."""
    names: dict[str, Value] = {"stubbed_module": stubbed}
    victim = project.file(victim_file) if victim_file else None
    if victim is None:
        return names
    for module in sorted(project.imports(victim)):
        path = project.module_file(module)
        if path is None or path == victim:
            continue
        if any(imported == stubbed or imported.startswith(stubbed + ".") for imported in project.imports(path)):
            names["importing_module"] = module
            break
    return names
