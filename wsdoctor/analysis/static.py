"""Static findings in test files: habits that hide failures or pollute the process (ast only)."""

from __future__ import annotations

import ast

from wsdoctor.records import StaticFinding

MOCK_CHECKS = frozenset({"called_once", "called_once_with", "called_with", "not_called", "has_calls",
                         "any_call", "called_twice"})


def scan_source(source: str, shown: str) -> tuple[StaticFinding, ...]:
    """The findings in one test file's source (``shown``: its path as reports name it)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ()
    lines = source.splitlines()
    found = [(finding, getattr(node, "lineno", 1)) for finding, node in _findings(tree)]
    return tuple(StaticFinding(id=finding, path=shown, line=line,
                               code=lines[line - 1].strip() if line <= len(lines) else "")
                 for finding, line in sorted(set(found), key=lambda item: item[1]))


def _findings(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    found: list[tuple[str, ast.AST]] = []
    for statement in _module_level(tree.body):
        if _assigns_sys_modules(statement):
            found.append(("sys-modules-assignment", statement))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            found += [(finding, node) for finding in _assert_findings(node)]
        elif isinstance(node, (ast.Assign, ast.AugAssign)) and _assigns_environ(node):
            found.append(("environ-assignment", node))
        elif isinstance(node, ast.ExceptHandler) and _swallows(node):
            found.append(("swallowed-exception", node))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _only_guarded_asserts(node):
            found.append(("guarded-assertion", node))
    return found


def _module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements that run on import: the module body, and inside its ifs and trys."""
    statements = []
    for statement in body:
        statements.append(statement)
        if isinstance(statement, (ast.If, ast.Try)):
            nested = [*statement.body, *statement.orelse]
            if isinstance(statement, ast.Try):
                nested += [s for handler in statement.handlers for s in handler.body]
            statements += _module_level(nested)
    return statements


def _is_sys_modules(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "modules"
            and isinstance(node.value, ast.Name) and node.value.id == "sys")


def _assigns_sys_modules(statement: ast.stmt) -> bool:
    targets = statement.targets if isinstance(statement, ast.Assign) else []
    return any(isinstance(t, ast.Subscript) and _is_sys_modules(t.value) for t in targets)


def _assigns_environ(node: ast.Assign | ast.AugAssign) -> bool:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return any(isinstance(t, ast.Subscript) and isinstance(t.value, ast.Attribute)
               and t.value.attr == "environ" for t in targets)


def _assert_findings(node: ast.Assert) -> list[str]:
    test = node.test
    if isinstance(test, ast.Constant) and test.value is True:
        return ["assert-true"]
    if (isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute)
            and test.func.attr in MOCK_CHECKS):
        return ["called-once-assertion"]
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.GtE)
            and isinstance(test.left, ast.Call) and getattr(test.left.func, "id", "") == "len"
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value == 0):
        return ["len-ge-zero"]
    return []


def _swallows(handler: ast.ExceptHandler) -> bool:
    broad = handler.type is None or getattr(handler.type, "id", "") in ("Exception", "BaseException")
    quiet = all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Call))
                for s in handler.body)
    return broad and quiet


def _only_guarded_asserts(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    if not function.name.startswith("test"):
        return False
    direct = [s for s in ast.walk(ast.Module(body=_unguarded(function.body), type_ignores=[]))
              if isinstance(s, ast.Assert)]
    every = [s for s in ast.walk(function) if isinstance(s, ast.Assert)]
    return bool(every) and not direct


def _unguarded(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements of a body that run whatever happens: not under an if."""
    kept: list[ast.stmt] = []
    for statement in body:
        if isinstance(statement, ast.If):
            continue
        if isinstance(statement, (ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While, ast.Try)):
            kept += _unguarded(statement.body)
        else:
            kept.append(statement)
    return kept
