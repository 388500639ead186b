"""Rewrites of the polluting statement itself, in the polluter's own words.

In a test (or its class's set-up):

- ``os.environ["K"] = v``          -> ``monkeypatch.setenv("K", v)``
- ``sys.modules["m"] = stub``       -> ``monkeypatch.setitem(sys.modules, "m", stub)``
- ``config.DEBUG = True``           -> ``monkeypatch.setattr(config, "DEBUG", True)`` (a module's or a
  class's attribute, by the name the probes gave the leak)
- ``patcher.start()`` never stopped -> ``self.addCleanup(patcher.stop)`` (unittest) or
  ``request.addfinalizer(patcher.stop)``
- a fixture that returns a started object of the project's and never stops it -> it yields the
  object and calls its ``stop()`` (or ``close()``, ``shutdown()``) after the test

A module-level ``sys.modules`` stub is wsdoctor.edits.stubs'.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Sequence

import libcst as cst

from wsdoctor.analysis.fix import shown_leak
from wsdoctor.edits.syntax import (
    Bindings,
    EditError,
    FirstParty,
    Import,
    add_imports,
    code_of,
    dotted,
    enclosing_class,
    find_function,
    is_unittest_class,
    leading_lines,
    parse,
    replace_nodes,
    statements_of,
    with_param,
)
from wsdoctor.records import StateChange

SETUP_METHODS = ("setUp", "setup_method", "setup")
ENVIRON = ("os.environ", "environ")


def literal(node: cst.BaseExpression) -> object:
    """The value of a literal key (``"K"``), else a marker that matches nothing."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        try:
            return ast.literal_eval(code_of(node))
        except (ValueError, SyntaxError):
            return _NO_VALUE
    return _NO_VALUE


_NO_VALUE = object()


def _subscript_key(target: cst.BaseExpression, containers: Sequence[str]) -> object:
    index = _index(target, containers)
    return literal(index) if index is not None else _NO_VALUE


def _index(target: cst.BaseExpression, containers: Sequence[str]) -> cst.BaseExpression | None:
    """``key`` of ``container[key]`` when the container is one of ``containers``."""
    if not isinstance(target, cst.Subscript) or dotted(target.value) not in containers or len(target.slice) != 1:
        return None
    index = target.slice[0].slice
    return index.value if isinstance(index, cst.Index) else None


class _Statements(cst.CSTTransformer):
    """Rewrites, in one function, the assignments that write a leaked piece of state."""

    def __init__(self, leaks: Sequence[StateChange], fixtures: bool, unittest: bool) -> None:
        self.environ = {leak.name for leak in leaks if leak.kind == "environ"}
        self.modules = {leak.name for leak in leaks if leak.kind == "sys.modules"}
        self.attributes = [leak.name for leak in leaks if leak.kind in ("module-attr", "class-attr")]
        self.patchers = any(leak.kind == "patcher" for leak in leaks)
        self.fixtures = fixtures  # the function takes fixtures as arguments (not a unittest method)
        self.unittest = unittest
        self.done: list[str] = []
        self.uses: set[str] = set()  # fixtures the rewritten statements use

    def leave_Assign(self, original_node: cst.Assign,
                     updated_node: cst.Assign) -> cst.BaseSmallStatement:
        if not self.fixtures or len(updated_node.targets) != 1:
            return updated_node
        target, value = updated_node.targets[0].target, updated_node.value
        index = _index(target, ENVIRON)
        if index is not None and literal(index) in self.environ:
            return self._call(f"monkeypatch.setenv({code_of(index)}, {code_of(value)})",
                              f"os.environ[{code_of(index)}] = ... -> monkeypatch.setenv")
        index = _index(target, ("sys.modules",))
        if index is not None and literal(index) in self.modules:
            return self._call(f"monkeypatch.setitem(sys.modules, {code_of(index)}, {code_of(value)})",
                              f"sys.modules[{code_of(index)}] = ... -> monkeypatch.setitem")
        name = dotted(target) if isinstance(target, cst.Attribute) else None
        if name and name.split(".")[0] not in ("self", "cls") and any(
                leak == name or leak.endswith("." + name) for leak in self.attributes):
            assert isinstance(target, cst.Attribute)
            return self._call(f'monkeypatch.setattr({code_of(target.value)}, "{target.attr.value}", {code_of(value)})',
                              f"{name} = ... -> monkeypatch.setattr")
        return updated_node

    def _call(self, code: str, what: str) -> cst.BaseSmallStatement:
        self.done.append(what)
        self.uses.add("monkeypatch")
        statement = cst.parse_statement(code + "\n")
        assert isinstance(statement, cst.SimpleStatementLine)
        return statement.body[0]

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock,
                            updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        if not self.patchers:
            return updated_node
        body: list[cst.BaseStatement] = []
        for statement in updated_node.body:
            body.append(statement)
            started = _started_patcher(statement)
            if started is not None:
                body.append(self._cleanup(started))
        return updated_node.with_changes(body=body)

    def _cleanup(self, patcher: str) -> cst.BaseStatement:
        if self.unittest:
            self.done.append(f"{patcher}.start() -> self.addCleanup({patcher}.stop)")
            return cst.parse_statement(f"self.addCleanup({patcher}.stop)\n")
        self.done.append(f"{patcher}.start() -> request.addfinalizer({patcher}.stop)")
        self.uses.add("request")
        return cst.parse_statement(f"request.addfinalizer({patcher}.stop)\n")


def _started_patcher(statement: cst.BaseStatement) -> str | None:
    """``patcher`` for a line ``patcher.start()`` (or ``x = patcher.start()``)."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    call = small.value if isinstance(small, (cst.Expr, cst.Assign)) else None
    if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "start" \
            and isinstance(call.func.value, cst.Name) and not call.args:
        return call.func.value.value
    return None


def rewrite_polluter(text: str, path: str, function: str, leaks: Sequence[StateChange],
                     first_party: FirstParty) -> tuple[str, list[str]]:
    """The file with the polluting statements of ``function`` (and its class's set-up) rewritten,
    and what was rewritten; EditError when nothing was."""
    module = parse(text, path)
    owner = enclosing_class(module, function)
    unittest = is_unittest_class(owner)
    replacements: dict[cst.CSTNode, cst.CSTNode] = {}
    done: list[str] = []
    needs_sys = False
    for name in _functions_to_scan(module, function, owner):
        node = find_function(module, name)
        is_setup = name.rsplit(".", 1)[-1] in SETUP_METHODS
        rewriter = _Statements(leaks, fixtures=not unittest and not is_setup, unittest=unittest or is_setup)
        changed = node.visit(rewriter)
        assert isinstance(changed, cst.FunctionDef)
        if is_setup and "request" in rewriter.uses:
            continue  # a set-up method takes no fixtures
        for fixture in sorted(rewriter.uses):
            changed = with_param(changed, fixture)
        if rewriter.done:
            replacements[node] = changed
            done += rewriter.done
            needs_sys = needs_sys or any(d.startswith("sys.modules") for d in rewriter.done)
    if not done:
        raise EditError(f"no statement of {function} writes {', '.join(map(shown_leak, leaks))} directly")
    module = replace_nodes(module, replacements)
    if needs_sys:
        module = add_imports(module, [Import("sys")], first_party)
    return module.code, done


def _functions_to_scan(module: cst.Module, function: str, owner: cst.ClassDef | None) -> list[str]:
    names = [function]
    if owner is not None and isinstance(owner.body, cst.IndentedBlock):
        prefix = function.rsplit(".", 1)[0]
        names += [f"{prefix}.{s.name.value}" for s in owner.body.body
                  if isinstance(s, cst.FunctionDef) and s.name.value in SETUP_METHODS]
    return names


# --- a fixture that starts something and never stops it ----------------------------------------------

STOP_METHODS = ("stop", "close", "shutdown")


def fixture_teardowns(read: Callable[[str], str | None], files: Sequence[str], function: str,
                      module_source: Callable[[str], str | None]) -> dict[str, str]:
    """For each fixture ``function`` takes (defined nearest first in ``files``) that returns a started
    object of the project's whose class has ``stop()`` (or ``close()``, ``shutdown()``): the fixture
    yields it and stops it after the test. The changed files' new texts; EditError when there is none."""
    polluter = parse(read(files[0]) or "", files[0])
    params = [p.name.value for p in find_function(polluter, function).params.params
              if p.name.value not in ("self", "cls")]
    changed: dict[str, str] = {}
    for fixture in params:
        for path in files:
            text = changed.get(path) or read(path)
            module = parse(text, path) if text else None
            node = _fixture_named(module, fixture) if module is not None else None
            if module is None or node is None:
                continue
            rewritten = _yield_then_stop(module, node, module_source)
            if rewritten is not None:
                changed[path] = rewritten
            break  # the nearest definition is the one pytest uses
    if not changed:
        raise EditError(f"no fixture of {function} returns a started object whose class has "
                        f"{', '.join(m + '()' for m in STOP_METHODS)}")
    return changed


def _fixture_named(module: cst.Module, name: str) -> cst.FunctionDef | None:
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name and any(
                (dotted(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator) or "")
                .endswith("fixture") for d in statement.decorators):
            return statement
    return None


class _Yields(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Yield(self, node: cst.Yield) -> None:
        self.found = True


def _yield_then_stop(module: cst.Module, node: cst.FunctionDef,
                     module_source: Callable[[str], str | None]) -> str | None:
    """``return Server(...).start()`` -> ``server = Server(...).start()``, ``yield server``, ``server.stop()``."""
    yields = _Yields()
    node.visit(yields)
    if yields.found or not isinstance(node.body, cst.IndentedBlock) or not node.body.body:
        return None
    last = node.body.body[-1]
    small = last.body[0] if isinstance(last, cst.SimpleStatementLine) and len(last.body) == 1 else None
    if not isinstance(small, cst.Return) or small.value is None:
        return None
    class_name = _class_of(small.value)
    stop = _stop_method(module, class_name, module_source) if class_name else None
    if class_name is None or stop is None:
        return None
    variable = re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()
    lines = statements_of(f"{variable} = {code_of(small.value)}\nyield {variable}\n{variable}.{stop}()\n")
    lines[0] = lines[0].with_changes(leading_lines=leading_lines(last))
    body = node.body.with_changes(body=[*node.body.body[:-1], *lines])
    return replace_nodes(module, {node: node.with_changes(body=body)}).code


def _class_of(value: cst.BaseExpression) -> str | None:
    """``Server`` in ``Server(...)`` or ``Server(...).start()``."""
    while isinstance(value, cst.Call):
        if isinstance(value.func, cst.Name):
            return value.func.value
        if not isinstance(value.func, cst.Attribute):
            return None
        value = value.func.value
    return None


def _stop_method(module: cst.Module, class_name: str, module_source: Callable[[str], str | None]) -> str | None:
    bound = Bindings.of(module).names.get(class_name, "")
    source = module if bound is None or class_name not in Bindings.of(module).names else None
    if source is None and bound:
        text = module_source(bound.rpartition(".")[0])
        source = parse(text, bound) if text else None
    found = next((s for s in source.body if isinstance(s, cst.ClassDef) and s.name.value == class_name),
                 None) if source is not None else None
    if found is None or not isinstance(found.body, cst.IndentedBlock):
        return None
    methods = {s.name.value: s for s in found.body.body if isinstance(s, cst.FunctionDef) and s.asynchronous is None
               and len(s.params.params) == 1}
    return next((name for name in STOP_METHODS if name in methods), None)
