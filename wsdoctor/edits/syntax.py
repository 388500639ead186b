"""What the edits of `wsdoctor fix` share: a test file as a concrete syntax tree (libcst keeps every
comment, blank line and quote as it was), the names it binds at its top, its functions by
qualified name, imports added where a reader expects them, and statements put in place."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import libcst as cst

TWO_BLANK_LINES = (cst.EmptyLine(), cst.EmptyLine())
FirstParty = Callable[[str], bool]  # a top-level module name is the project's own


class EditError(Exception):
    """The edit cannot be made in this file: the message says why (the candidate is dropped with it)."""


def parse(text: str, path: str) -> cst.Module:
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        raise EditError(f"{path} does not parse ({error.message}, line {error.raw_line})") from None


def code_of(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def statements_of(code: str) -> list[cst.BaseStatement]:
    """Statements written as code (from a template): what is inserted into a file."""
    return list(cst.parse_module(code).body)


def dotted(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a chain of names and attributes, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def _alias_name(alias: cst.ImportAlias) -> str:
    name = dotted(alias.name)
    return name or ""


@dataclass(frozen=True, slots=True)
class Bindings:
    """Names bound at the top of a module: the import each stands for, or None (a def, a class, an assignment)."""

    names: dict[str, str | None]

    @classmethod
    def of(cls, module: cst.Module) -> Bindings:
        names: dict[str, str | None] = {}
        for statement in module.body:
            for small in _small_statements(statement):
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        full = _alias_name(alias)
                        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                            names[alias.asname.name.value] = full
                        else:
                            names[full.split(".")[0]] = full.split(".")[0]
                elif isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None \
                        and not isinstance(small.names, cst.ImportStar):
                    base = dotted(small.module) or ""
                    for alias in small.names:
                        bound = alias.asname.name.value if alias.asname is not None and isinstance(
                            alias.asname.name, cst.Name) else _alias_name(alias)
                        names[bound] = f"{base}.{_alias_name(alias)}"
                elif isinstance(small, (cst.Assign, cst.AnnAssign)):
                    targets = small.targets if isinstance(small, cst.Assign) else [small]
                    for target in targets:
                        if isinstance(target.target, cst.Name):
                            names.setdefault(target.target.value, None)
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                names[statement.name.value] = None
        return cls(names)

    def expression_for(self, target: str) -> str | None:
        """An expression for the dotted path ``target`` through a name this module binds, if it binds one."""
        parts = target.split(".")
        for end in range(len(parts), 0, -1):
            prefix = ".".join(parts[:end])
            for name, bound in self.names.items():
                if bound == prefix and (end > 1 or name == prefix):
                    return ".".join([name, *parts[end:]])
        return None

    def free(self, name: str) -> bool:
        return name not in self.names


def _small_statements(statement: cst.BaseStatement) -> Sequence[cst.BaseSmallStatement]:
    return statement.body if isinstance(statement, cst.SimpleStatementLine) else ()


# --- functions --------------------------------------------------------------------------------


def find_function(module: cst.Module, qualname: str) -> cst.FunctionDef:
    """``test_x`` at the top of the module, or ``TestX.test_x`` in a class (nested classes too)."""
    body: Sequence[cst.BaseStatement] = module.body
    *classes, name = qualname.split(".")
    for class_name in classes:
        found = next((s for s in body if isinstance(s, cst.ClassDef) and s.name.value == class_name), None)
        if found is None or not isinstance(found.body, cst.IndentedBlock):
            raise EditError(f"no class {class_name} in the file")
        body = found.body.body
    function = next((s for s in body if isinstance(s, cst.FunctionDef) and s.name.value == name), None)
    if function is None:
        raise EditError(f"no function {qualname} in the file (a test made by a decorator or a plugin)")
    return function


def enclosing_class(module: cst.Module, qualname: str) -> cst.ClassDef | None:
    if "." not in qualname:
        return None
    name = qualname.split(".")[0]
    return next((s for s in module.body if isinstance(s, cst.ClassDef) and s.name.value == name), None)


def is_unittest_class(node: cst.ClassDef | None) -> bool:
    """A unittest.TestCase (its methods take no fixtures as arguments)."""
    if node is None:
        return False
    return any((dotted(base.value) or "").split(".")[-1].endswith("TestCase") for base in node.bases)


class _Replace(cst.CSTTransformer):
    def __init__(self, replacements: dict[cst.CSTNode, cst.CSTNode]) -> None:
        self.replacements = replacements

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:  # type: ignore[override]
        return self.replacements.get(original_node, updated_node)


def replace_nodes(module: cst.Module, replacements: dict[cst.CSTNode, cst.CSTNode]) -> cst.Module:
    """The module with each node (by identity) replaced."""
    if not replacements:
        return module
    changed = module.visit(_Replace(replacements))
    assert isinstance(changed, cst.Module)
    return changed


def with_param(function: cst.FunctionDef, name: str) -> cst.FunctionDef:
    """``function`` taking the fixture ``name`` too (after its own parameters)."""
    params = function.params
    if any(p.name.value == name for p in (*params.posonly_params, *params.params, *params.kwonly_params)):
        return function
    own = list(params.params)
    if own:  # "def f(a)" -> "def f(a, name)": the last parameter gets the comma
        own[-1] = own[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return function.with_changes(params=params.with_changes(params=[*own, cst.Param(cst.Name(name))]))


def with_decorator(function: cst.FunctionDef, expression: str) -> cst.FunctionDef:
    decorator = cst.Decorator(decorator=cst.parse_expression(expression))
    return function.with_changes(decorators=[decorator, *function.decorators])


# --- where statements go -----------------------------------------------------------------------


def is_import(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body)


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 and isinstance(
        statement.body[0], cst.Expr) and isinstance(statement.body[0].value, (cst.SimpleString,
                                                                                cst.ConcatenatedString))


def after_imports(module: cst.Module) -> int:
    """The index after the imports at the top of the module (statements between them included:
    a file may assign or call something before its last import)."""
    first_definition = next((i for i, s in enumerate(module.body)
                             if isinstance(s, (cst.FunctionDef, cst.ClassDef))), len(module.body))
    imports = [i for i, s in enumerate(module.body[:first_definition]) if is_import(s)]
    if imports:
        return imports[-1] + 1
    return 1 if module.body and _is_docstring(module.body[0]) else 0


def insert_at(module: cst.Module, index: int, statements: Sequence[cst.BaseStatement]) -> cst.Module:
    """Statements inserted before the statement at ``index``, two blank lines around them."""
    body = list(module.body)
    spaced = [statement.with_changes(leading_lines=_spaced(leading_lines(statement)) if index or i else
                                     leading_lines(statement))
              for i, statement in enumerate(statements)]
    if index < len(body):
        body[index] = body[index].with_changes(leading_lines=_spaced(leading_lines(body[index])))
    return module.with_changes(body=[*body[:index], *spaced, *body[index:]])


def insert_lines(module: cst.Module, index: int, statements: Sequence[cst.BaseStatement]) -> cst.Module:
    """Statements inserted before the statement at ``index`` as lines of code: one blank line before
    them (their comment lines kept), none between them."""
    if not statements:
        return module
    body = list(module.body)
    first = statements[0].with_changes(leading_lines=(cst.EmptyLine(), *[
        line for line in leading_lines(statements[0]) if line.comment is not None]))
    return module.with_changes(body=[*body[:index], first, *statements[1:], *body[index:]])


def leading_lines(statement: cst.BaseStatement) -> Sequence[cst.EmptyLine]:
    """The blank and comment lines above a statement."""
    if isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
        return statement.leading_lines
    return ()


def _spaced(lines: Sequence[cst.EmptyLine]) -> tuple[cst.EmptyLine, ...]:
    """Two blank lines before a top-level definition (its comment lines kept after them)."""
    comments = [line for line in lines if line.comment is not None]
    return (*TWO_BLANK_LINES, *comments)


def index_of_top(module: cst.Module, qualname: str) -> int:
    """The index of the top-level statement that holds ``qualname`` (its class, or itself)."""
    top = qualname.split(".")[0]
    for index, statement in enumerate(module.body):
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and statement.name.value == top:
            return index
    raise EditError(f"no {top} at the top of the file")


# --- imports ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Import:
    """``import module`` (name None) or ``from module import name``."""

    module: str
    name: str | None = None

    @property
    def bound(self) -> str:
        return self.name if self.name is not None else self.module.split(".")[0]

    def code(self) -> str:
        return f"from {self.module} import {self.name}" if self.name else f"import {self.module}"


def add_imports(module: cst.Module, imports: Sequence[Import], first_party: FirstParty) -> cst.Module:
    """Each import the module lacks, where a reader expects it: a name into an existing
    ``from module import ...``, an ``import`` into its group (standard library, others, the project's),
    in alphabetical order."""
    for wanted in dict.fromkeys(imports):
        if Bindings.of(module).names.get(wanted.bound) == (f"{wanted.module}.{wanted.name}" if wanted.name
                                                            else wanted.module.split(".")[0]):
            continue
        module = _merged_into_from(module, wanted) or _inserted_import(module, wanted, first_party)
    return module


def _merged_into_from(module: cst.Module, wanted: Import) -> cst.Module | None:
    if wanted.name is None:
        return None
    for statement in module.body[:after_imports(module)]:
        if not is_import(statement):
            continue
        assert isinstance(statement, cst.SimpleStatementLine)
        small = statement.body[0]
        if isinstance(small, cst.ImportFrom) and dotted(small.module or cst.Name("_")) == wanted.module \
                and not isinstance(small.names, cst.ImportStar) and not small.relative and len(statement.body) == 1:
            names = [*small.names]
            alias = cst.ImportAlias(name=cst.Name(wanted.name))
            position = next((i for i, a in enumerate(names) if _alias_name(a) > wanted.name), len(names))
            names.insert(position, alias)
            names = [a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                     for a in names[:-1]] + [names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
            if small.lpar:  # a parenthesised, probably multi-line list: keep it simple, one line
                small = small.with_changes(lpar=None, rpar=None)
            return replace_nodes(module, {statement: statement.with_changes(body=[small.with_changes(names=names)])})
    return None


def _group(name: str, first_party: FirstParty) -> int:
    """0 the standard library, 1 others, 2 the project's, 3 relative imports (``from .x import y``)."""
    top = name.split(".")[0]
    if not top:
        return 3
    if top in sys.stdlib_module_names or top == "__future__":
        return 0
    return 2 if first_party(top) else 1


def _imported_module(statement: cst.BaseStatement) -> str:
    assert isinstance(statement, cst.SimpleStatementLine)
    small = statement.body[0]
    if isinstance(small, cst.Import):
        return _alias_name(small.names[0])
    assert isinstance(small, cst.ImportFrom)
    return "." * len(small.relative) + ((dotted(small.module) or "") if small.module is not None else "")


def _inserted_import(module: cst.Module, wanted: Import, first_party: FirstParty) -> cst.Module:
    line = cst.parse_statement(wanted.code() + "\n")
    group = _group(wanted.module, first_party)
    imports = [(i, s) for i, s in enumerate(module.body[:after_imports(module)]) if is_import(s)]
    same = [(i, s) for i, s in imports if _group(_imported_module(s), first_party) == group]
    if same:
        later = [i for i, s in same if _imported_module(s).lower() > wanted.module.lower()]
        index = later[0] if later else same[-1][0] + 1
        if later:
            line = line.with_changes(leading_lines=module.body[index].leading_lines)
            body = list(module.body)
            body[index] = body[index].with_changes(leading_lines=())
            return module.with_changes(body=[*body[:index], line, *body[index:]])
        return module.with_changes(body=[*module.body[:index], line, *module.body[index:]])
    before = [i for i, s in imports if _group(_imported_module(s), first_party) < group]
    after = [i for i, s in imports if _group(_imported_module(s), first_party) > group]
    if before:
        index = before[-1] + 1
        line = line.with_changes(leading_lines=(cst.EmptyLine(),))
    elif after:
        index = after[0]
        body = list(module.body)
        body[index] = body[index].with_changes(leading_lines=(cst.EmptyLine(), *body[index].leading_lines))
        line = line.with_changes(leading_lines=())
        return module.with_changes(body=[*body[:index], line, *body[index:]])
    else:
        index = 1 if module.body and _is_docstring(module.body[0]) else 0
        if index:
            line = line.with_changes(leading_lines=(cst.EmptyLine(),))
    body = list(module.body)
    if index < len(body) and not is_import(body[index]) and not body[index].leading_lines:
        body[index] = body[index].with_changes(leading_lines=(cst.EmptyLine(),))
    return module.with_changes(body=[*body[:index], line, *body[index:]])


class Needs:
    """Names a new piece of code uses from other modules: the expression for each (through what the
    file binds already), and the imports to add for the others."""

    def __init__(self, module: cst.Module) -> None:
        self.bindings = Bindings.of(module)
        self.imports: list[Import] = []

    def name(self, target: str) -> str:
        """An expression for ``target`` (``os``, ``pytest``, ``unittest.mock.patch``), imported at the top if
        the file does not bind it: ``from unittest.mock import patch`` when ``patch`` is free."""
        found = self.bindings.expression_for(target)
        if found is not None:
            return found
        module, _, last = target.rpartition(".")
        if module and self.bindings.free(last):
            self._add(Import(module, last))
            return last
        self._add(Import(module or target))  # ``import unittest.mock``: the name spelled in full
        return target

    def _add(self, wanted: Import) -> None:
        if wanted not in self.imports:
            self.imports.append(wanted)
            self.bindings.names[wanted.bound] = f"{wanted.module}.{wanted.name}" if wanted.name else wanted.bound

    def local(self, module: str, attributes: Sequence[str]) -> tuple[str, str | None]:
        """An expression for ``module.attributes`` (a project object), and the import to write inside the
        fixture when the file does not bind it at its top (its own import-time behaviour stays as it was)."""
        target = ".".join([module, *attributes])
        found = self.bindings.expression_for(target)
        if found is not None:
            return found, None
        parent, _, last = module.rpartition(".")
        if parent:
            return ".".join([last, *attributes]), f"from {parent} import {last}"
        return target, f"import {module}"
