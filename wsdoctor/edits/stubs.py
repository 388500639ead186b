"""A module-level ``sys.modules["m"] = stub``, scoped: in ``sys.modules`` only while each test of the
file runs (an autouse fixture; ``patch.dict`` puts ``sys.modules`` back after it), and while the
file's imports that need it run. Those are the imports that followed it and reach a project module
that imports ``m`` when it is imported: they go inside a ``with patch.dict(...)`` block, so that
module still binds the stub (the file still runs where ``m`` is not installed) and leaves
``sys.modules`` with it. Only those: ``patch.dict`` removes whatever was first imported inside its
block, and a package imported there for nothing would be imported again, a second copy, by the
next file. The stub is made once, where the assignment was: the code under test and the tests
share one object. A mock given as the stub (``MagicMock()``) becomes a real
``types.ModuleType``, with what the project's modules the file imports use of the package (an
attribute awaited gets an ``AsyncMock``, another a ``MagicMock``) and a module for every
submodule they import: a mock is not a package on Python 3.11+, not even with ``__path__ = []``
(``AttributeError: __spec__``; 3.10 says "No module named"), and a module is one on every version
once its submodules are in ``sys.modules`` too.
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

import libcst as cst

from wsdoctor.analysis.fix import identifier
from wsdoctor.edits.syntax import (
    Bindings,
    EditError,
    FirstParty,
    Needs,
    add_imports,
    after_imports,
    code_of,
    dotted,
    insert_at,
    insert_lines,
    is_import,
    parse,
    statements_of,
)

MOCK_CLASSES = frozenset({"Mock", "MagicMock", "AsyncMock", "NonCallableMock", "NonCallableMagicMock"})
ModuleSource = Callable[[str], str | None]
Importers = Callable[[str], list[str]]  # the texts of the project's modules that import a package


@dataclass
class _Use:
    """What some code uses of a package: its attributes (awaited or not), and its submodules' attributes."""

    attributes: dict[str, bool] = field(default_factory=dict)  # name -> awaited
    submodules: dict[str, dict[str, bool]] = field(default_factory=dict)  # "pkg.sub" -> its attributes


def stub_into_fixture(text: str, path: str, keys: Sequence[str], first_party: FirstParty,
                      module_source: ModuleSource = lambda dotted: None,
                      importers: Importers = lambda package: [], real_module: bool = True) -> str:
    module = parse(text, path)
    stubs = [(statement, found) for statement in module.body for found in [_stub_of(statement, keys)] if found]
    if not stubs:
        raise EditError(f"no module-level sys.modules[...] = ... for {', '.join(keys)} in {path}")
    comments = [line for statement, _ in stubs for line in statement.leading_lines if line.comment is not None]
    first = next(i for i, statement in enumerate(module.body) if statement is stubs[0][0])
    stubbed = [ast.literal_eval(code_of(key)) for _, (key, _) in stubs]
    following = [statement for statement in module.body[first + 1:after_imports(module)] if is_import(statement)
                 and _imports_any(_imported(statement), stubbed, module_source, set())]
    needs = Needs(module)
    lines: list[str] = []
    entries: list[str] = []
    for _, (key, value) in stubs:
        name = ast.literal_eval(code_of(key))
        if real_module and _is_mock(value, Bindings.of(module)):
            used = _use_of(name, [*_imported_project_sources(module, module_source), *_parsed(importers(name))])
            entries += _module_stub(name, used, needs, lines)
        else:
            variable = identifier(name, "stub").lstrip("_")
            lines.append(f"{variable} = {code_of(value)}")
            entries.append(f"{code_of(key)}: {variable}")
    stubs_name = identifier(*stubbed, "stubs").lstrip("_")
    lines.append(f"{stubs_name} = {{{entries[0]}}}" if len(entries) == 1 else
                 f"{stubs_name} = {{\n" + "".join(f"    {entry},\n" for entry in entries) + "}")
    patched = f"{needs.name('unittest.mock.patch')}.dict({needs.name('sys')}.modules, {stubs_name})"
    made = statements_of("".join(f"{line}\n" for line in lines))
    made[0] = made[0].with_changes(leading_lines=comments)
    block = _import_block(patched, following)
    fixture = statements_of(f"@{needs.name('pytest')}.fixture(autouse=True)\n"
                            f"def {identifier(*stubbed, 'stub')}():\n    with {patched}:\n        yield\n")
    module = _without(module, first, [stub for stub, _ in stubs] + following)
    at = max(first, after_imports(module))  # below the imports that stayed, where they were
    module = insert_lines(module, at, [*made, *block])
    module = insert_at(module, at + len(made) + len(block), fixture)
    return add_imports(module, needs.imports, first_party).code


def _stub_of(statement: cst.BaseStatement, keys: Sequence[str]) -> tuple[cst.BaseExpression,
                                                                          cst.BaseExpression] | None:
    """(key, stub) of a line ``sys.modules[key] = stub`` for one of ``keys``."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if not isinstance(small, cst.Assign) or len(small.targets) != 1:
        return None
    target = small.targets[0].target
    if not isinstance(target, cst.Subscript) or dotted(target.value) != "sys.modules" or len(target.slice) != 1:
        return None
    index = target.slice[0].slice
    if not isinstance(index, cst.Index) or not isinstance(index.value, cst.SimpleString) \
            or ast.literal_eval(code_of(index.value)) not in keys:
        return None
    return index.value, small.value


def _import_block(patched: str, following: Sequence[cst.BaseStatement]) -> list[cst.BaseStatement]:
    """``with <patched>:`` holding the imports that need the stub; none, no block."""
    if not following:
        return []
    block = cast(cst.With, statements_of(f"with {patched}:\n    pass\n")[0])
    return [block.with_changes(body=block.body.with_changes(
        body=[statement.with_changes(leading_lines=()) for statement in following]))]


def _without(module: cst.Module, first: int, removed: Sequence[cst.BaseStatement]) -> cst.Module:
    """The module without the stub's statements and the imports moved under it."""
    top = after_imports(module)
    return module.with_changes(body=[_without_e402(s) if first < i < top else s
                                     for i, s in enumerate(module.body) if all(s is not gone for gone in removed)])


def _without_e402(statement: cst.BaseStatement) -> cst.BaseStatement:
    """An import that stays at the top, where no code is above it any more: its ``# noqa: E402`` goes."""
    if not isinstance(statement, cst.SimpleStatementLine) or not is_import(statement):
        return statement
    comment = statement.trailing_whitespace.comment
    if comment is None or comment.value.replace(" ", "").lower() != "#noqa:e402":
        return statement
    return statement.with_changes(trailing_whitespace=statement.trailing_whitespace.with_changes(
        comment=None, whitespace=cst.SimpleWhitespace("")))


def _imported(statement: cst.CSTNode, package: str = "") -> list[str]:
    """The dotted names an import statement (or the imports outside functions in a module) import;
    relative ones resolved against ``package``."""
    found: list[str] = []

    class _Imports(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False  # runs when called, not when the module is imported

        def visit_Import(self, node: cst.Import) -> None:
            found.extend(dotted(alias.name) or "" for alias in node.names)

        def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
            names = [] if isinstance(node.names, cst.ImportStar) else [dotted(a.name) or "" for a in node.names]
            for base in _bases(node, package):
                found.extend([base, *(f"{base}.{name}" for name in names)])

    statement.visit(_Imports())
    return [name for name in found if name]


def _bases(node: cst.ImportFrom, package: str) -> list[str]:
    """What ``from <base> import ...`` imports from: a relative one against the importing module's
    package, or (the module being a package's ``__init__``) against itself."""
    module = dotted(node.module) or "" if node.module is not None else ""
    level = len(node.relative)
    if not level:
        return [module]
    parts = package.split(".") if package else []
    anchors = dict.fromkeys(".".join(parts[:max(len(parts) - level + own, 0)]) for own in (0, 1))
    return [".".join(part for part in (anchor, module) if part) for anchor in anchors]


def _imports_any(names: Sequence[str], packages: Sequence[str], module_source: ModuleSource, seen: set[str]) -> bool:
    """Does importing these names import one of ``packages``: itself, or through a project module that
    imports it when it is imported (followed module by module)?"""
    for name in names:
        if any(name == package or name.startswith(package + ".") for package in packages):
            return True
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            module = ".".join(parts[:end])
            text = module_source(module) if module not in seen else None
            seen.add(module)
            if text is None:
                continue
            parsed = _parsed([text])
            if parsed and _imports_any(_imported(parsed[0], module), packages, module_source, seen):
                return True
    return False


def _is_mock(value: cst.BaseExpression, bindings: Bindings) -> bool:
    """``MagicMock()`` (or ``mock.MagicMock(...)``, ``Mock()``, ...): a mock made on the spot."""
    if not isinstance(value, cst.Call):
        return False
    name = dotted(value.func) or ""
    bound = bindings.names.get(name.split(".")[0]) or ""
    return name.split(".")[-1] in MOCK_CLASSES and ("unittest.mock" in f"{bound}.{name}" or "mock" in name)


def _imported_project_sources(module: cst.Module, module_source: ModuleSource) -> list[cst.Module]:
    """The project's modules this file imports at its top (their sources, parsed)."""
    found = []
    for bound in Bindings.of(module).names.values():
        parts = (bound or "").split(".")
        for end in range(len(parts), 0, -1):
            text = module_source(".".join(parts[:end])) if parts[0] else None
            if text is not None:
                found += _parsed([text])
                break
    return found


def _parsed(texts: Sequence[str]) -> list[cst.Module]:
    found = []
    for text in texts:
        with contextlib.suppress(cst.ParserSyntaxError):
            found.append(cst.parse_module(text))
    return found


def _use_of(package: str, modules: Sequence[cst.Module]) -> _Use:
    used = _Use()
    for module in modules:
        visitor = _Uses(package, Bindings.of(module))
        module.visit(visitor)
        for attribute, awaited in visitor.used.attributes.items():
            used.attributes[attribute] = used.attributes.get(attribute, False) or awaited
        for submodule, attributes in visitor.used.submodules.items():
            used.submodules.setdefault(submodule, {}).update(attributes)
    return used


class _Uses(cst.CSTVisitor):
    """``pkg.attr`` (awaited or not), ``from pkg import attr``, ``from pkg.sub import attr``."""

    def __init__(self, package: str, bindings: Bindings) -> None:
        self.package = package
        self.names = {name for name, bound in bindings.names.items() if bound == package}
        self.imported = {name: bound for name, bound in bindings.names.items()
                         if bound and bound.startswith(package + ".")}
        self.used = _Use()
        for name, bound in self.imported.items():
            owner, _, attribute = bound.rpartition(".")
            if owner == package:
                self.used.attributes[attribute] = False
            else:
                self.used.submodules.setdefault(owner, {})[attribute] = False
            self.names.discard(name)

    def visit_Import(self, node: cst.Import) -> bool:
        return False  # a module's dotted name is not a use of its attributes

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name) and node.value.value in self.names:
            self.used.attributes.setdefault(node.attr.value, False)

    def visit_Await(self, node: cst.Await) -> None:
        call = node.expression
        if not isinstance(call, cst.Call):
            return
        name = dotted(call.func) or ""
        head, _, attribute = name.partition(".")
        if head in self.names and attribute and "." not in attribute:
            self.used.attributes[attribute] = True
        elif name in self.imported:
            owner, _, attribute = self.imported[name].rpartition(".")
            target = self.used.attributes if owner == self.package else self.used.submodules.setdefault(owner, {})
            target[attribute] = True


def _module_stub(package: str, used: _Use, needs: Needs, lines: list[str]) -> list[str]:
    """Lines making a ModuleType for ``package`` (and each submodule used), and their sys.modules entries."""
    types = needs.name("types")
    entries = []
    parts = {sub: sub[len(package) + 1:].split(".") for sub in used.submodules}
    modules = [package, *sorted({".".join([package, *sub[:end]]) for sub in parts.values()
                                 for end in range(1, len(sub) + 1)})]
    for name in modules:
        parents = [p for p in modules if name.startswith(p + ".")]
        variable = identifier(name, "stub").lstrip("_")
        lines.append(f'{variable} = {types}.ModuleType("{name}")')
        attributes = used.attributes if name == package else used.submodules.get(name, {})
        for attribute, awaited in sorted(attributes.items()):
            mock = needs.name("unittest.mock.AsyncMock" if awaited else "unittest.mock.MagicMock")
            lines.append(f'{variable}.{attribute} = {mock}(name="{name}.{attribute}")')
        if parents:
            parent = max(parents, key=len)
            lines.append(f"{identifier(parent, 'stub').lstrip('_')}.{name[len(parent) + 1:]} = {variable}")
        entries.append(f'"{name}": {variable}')
    return entries
