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
    scoped_environ = _assignments_undone_by_patch_dict(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            found += [(finding, node) for finding in _assert_findings(node)]
        elif isinstance(node, (ast.Assign, ast.AugAssign)) and _assigns_environ(node) and node not in scoped_environ:
            found.append(("environ-assignment", node))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            found += [("swallowed-exception", handler) for handler in _swallowing_handlers(node)]
            if _only_guarded_asserts(node):
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


def _swallowing_handlers(test: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.ExceptHandler]:
    """`except Exception: pass` that can hide the test's failure: around a check, or in a test whose
    every check could be swallowed. Around best-effort cleanup (`sock.shutdown()`) in a test that
    checks something whatever happens, it hides nothing."""
    found = []
    for node in _own_nodes(test):
        if not isinstance(node, ast.Try):
            continue
        swallowing = [h for h in node.handlers if _swallows(h)]
        if swallowing and (_checks_anywhere(node.body) or not _always_checks(test.body, skip_swallowed=True)):
            found += swallowing
    return found


def _is_check(node: ast.AST) -> bool:
    """An assert, a raise, `pytest.fail(...)` or a mock's `assert_*()` call."""
    if isinstance(node, (ast.Assert, ast.Raise)):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name == "fail" or name.startswith("assert_")
    return False


def _checks_anywhere(body: list[ast.stmt]) -> bool:
    return any(_is_check(node) for statement in body for node in ast.walk(statement))


def _always_checks(body: list[ast.stmt], skip_swallowed: bool = False) -> bool:
    """Some check in ``body`` runs whatever path the code takes: unconditionally, or in every branch
    of an if/elif/else."""
    for statement in body:
        if _is_check(statement):
            return True
        if isinstance(statement, ast.If) and _always_checks(statement.body) and _always_checks(statement.orelse):
            return True
        # A loop's body is taken as run, as it was before: flagging every assert in a loop would
        # drown the real findings (precision over recall).
        if isinstance(statement, (ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)) and _always_checks(
                statement.body, skip_swallowed):
            return True
        if isinstance(statement, ast.Try):
            swallowed = skip_swallowed and any(_swallows(h) for h in statement.handlers)
            if (not swallowed and _always_checks(statement.body, skip_swallowed)) or _always_checks(
                    statement.finalbody, skip_swallowed):
                return True
    return False


def _only_guarded_asserts(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Asserts that run only on some paths: under an `if` whose other branch checks nothing.

    Only the test's own asserts count: those of a callback defined inside it (an ASGI `send`, a
    handler) run when the code under test calls them, which the source cannot tell.
    """
    asserts = [node for node in _own_nodes(function) if isinstance(node, ast.Assert)]
    return bool(asserts) and not _always_checks(function.body)


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _own_nodes(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    """The nodes of a function's body, without those of the functions and classes defined in it."""
    found: list[ast.AST] = []
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        found.append(node)
        if not isinstance(node, _SCOPES):
            pending.extend(ast.iter_child_nodes(node))
    return found


def _assignments_undone_by_patch_dict(tree: ast.Module) -> set[ast.AST]:
    """`os.environ[...] = ...` inside `with patch.dict(os.environ, ...)`: undone when the block ends."""
    undone: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.With, ast.AsyncWith)) and any(_patches_environ(item.context_expr)
                                                                for item in node.items):
            undone.update(n for statement in node.body for n in ast.walk(statement))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                _patches_environ(d) for d in node.decorator_list):
            undone.update(ast.walk(node))
    return undone


def _patches_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "dict"
            and bool(node.args) and isinstance(node.args[0], ast.Attribute) and node.args[0].attr == "environ")
