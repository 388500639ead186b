"""New fixtures: one that saves and restores the leaked state around each test of a file, and one
that runs a cleaner's statements as the polluter's teardown. Written in the names the file
already uses (``rooms.LOCKED`` when it has ``from app import rooms``); a project module the
file does not import at its top is imported inside the fixture, so the file's own import-time
behaviour stays as it was."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import libcst as cst

import wsdoctor.edits.syntax as syntax
from wsdoctor.analysis.fix import container_kind, holds_containers, identifier, is_cache, mutated_in_place
from wsdoctor.edits.syntax import EditError, find_function, index_of_top, insert_at, parse, statements_of
from wsdoctor.records import StateChange

_COPY_OF = {"mapping": "dict", "set": "set", "sequence": "list"}
ModuleOf = Callable[[str], tuple[str, tuple[str, ...]]]  # a leak's dotted name -> (module, attributes)


@dataclass
class _Body:
    """The pieces of a fixture's body, leak by leak."""

    needs: syntax.Needs
    imports: list[str] = field(default_factory=list)  # inside the fixture
    setup: list[str] = field(default_factory=list)
    contexts: list[str] = field(default_factory=list)  # context managers the yield runs in
    teardown: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)

    def variable(self, *words: str) -> str:
        name = identifier(*words).lstrip("_")
        while name in self.names:
            name += "_"
        self.names.add(name)
        return name

    def param(self, name: str) -> None:
        if name not in self.params:
            self.params.append(name)


def restore_fixture(text: str, path: str, leaks: Sequence[StateChange], polluters: Sequence[str],
                    module_of: ModuleOf, first_party: syntax.FirstParty) -> str:
    """``text`` with an autouse fixture that saves ``leaks`` before each test and restores them after."""
    module = parse(text, path) if text else cst.Module(body=[])
    body = _Body(syntax.Needs(module))
    for leak in leaks:
        _restore(leak, body, module_of)
    pytest = body.needs.name("pytest")
    name = _free_name(syntax.Bindings.of(module), identifier("restore", *_short(leaks)))
    code = _fixture_code(pytest + ".fixture(autouse=True)", name, body, _docstring(leaks, polluters))
    module = syntax.add_imports(module, body.needs.imports, first_party)
    return insert_at(module, syntax.after_imports(module), statements_of(code)).code


def _short(leaks: Sequence[StateChange]) -> list[str]:
    if len(leaks) != 1:
        return ["leaked", "state"]
    leak = leaks[0]
    if leak.kind == "file":
        return ["file", leak.name.rsplit("/", 1)[-1]]
    return leak.name.split(".")[-2:] if leak.kind in ("module-attr", "class-attr") else [leak.kind, leak.name]


def _docstring(leaks: Sequence[StateChange], polluters: Sequence[str]) -> str:
    from wsdoctor.analysis.fix import shown_leak

    what = ", ".join(shown_leak(leak) for leak in leaks)
    who = ", ".join(p.rsplit("::", 1)[-1] for p in polluters) or "a test"
    return f"{what} as it was before each test ({who} changes it and never puts it back)."


def _free_name(bindings: syntax.Bindings, name: str) -> str:
    while not bindings.free(name):
        name += "_"
    return name


def _fixture_code(decorator: str, name: str, body: _Body, doc: str) -> str:
    lines = [f'"""{_escaped(doc)}"""', *body.imports, *body.setup]
    if body.contexts:
        lines += [f"with {', '.join(body.contexts)}:", "    yield"]
    elif body.teardown or not body.setup:
        lines.append("yield")
    lines += body.teardown
    inner = "".join(f"    {line}\n" for block in lines for line in block.split("\n"))
    return f"@{decorator}\ndef {name}({', '.join(body.params)}):\n{inner}"


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _restore(leak: StateChange, body: _Body, module_of: ModuleOf) -> None:
    needs = body.needs
    if leak.kind == "environ":
        body.contexts.append(f"{needs.name('unittest.mock.patch')}.dict({needs.name('os')}.environ)")
    elif leak.kind == "sys.modules":
        body.contexts.append(f"{needs.name('unittest.mock.patch')}.dict({needs.name('sys')}.modules)")
    elif leak.kind in ("module-attr", "class-attr"):
        _restore_attribute(leak, body, module_of)
    elif leak.kind == "patcher":
        body.teardown.append(f"{needs.name('unittest.mock.patch')}.stopall()")
    elif leak.kind == "cwd":
        body.param("monkeypatch")
        body.setup.append(f"monkeypatch.chdir({needs.name('os')}.getcwd())")
    elif leak.kind == "sys.path":
        saved = body.variable("saved", "sys", "path")
        body.setup.append(f"{saved} = list({needs.name('sys')}.path)")
        body.teardown.append(f"{needs.name('sys')}.path[:] = {saved}")
    elif leak.kind == "file":
        _restore_file(leak, body)
    elif leak.kind == "signal":
        signal = needs.name("signal")
        saved = body.variable("saved", leak.name)
        body.setup.append(f"{saved} = {signal}.getsignal({signal}.{leak.name})")
        body.teardown.append(f"{signal}.signal({signal}.{leak.name}, {saved})")
    else:
        raise EditError(f"{leak.kind} {leak.name}: no generic way to put it back")


def _restore_attribute(leak: StateChange, body: _Body, module_of: ModuleOf) -> None:
    module, attributes = module_of(leak.name)
    if not attributes or not all(a.isidentifier() for a in attributes):
        raise EditError(f"{leak.name}: not an attribute a fixture can reach")
    value, imported = body.needs.local(module, attributes)
    owner, _, attribute = value.rpartition(".")
    if imported is not None and imported not in body.imports:
        body.imports.append(imported)
    if is_cache(leak):
        body.setup.append(f"{value}.cache_clear()")
        body.teardown.append(f"{value}.cache_clear()")
    elif mutated_in_place(leak):
        _restore_container(leak, value, body)
    elif leak.before is None:
        body.teardown.append(f"if hasattr({owner}, {json.dumps(attribute)}):\n    delattr({owner}, "
                             f"{json.dumps(attribute)})")
    else:
        body.param("monkeypatch")
        body.setup.append(f"monkeypatch.setattr({owner}, {json.dumps(attribute)}, {value})")


def _restore_container(leak: StateChange, value: str, body: _Body) -> None:
    kind = container_kind(leak.before)
    saved = body.variable("saved", *value.split(".")[-1:])
    if holds_containers(leak.before) or holds_containers(leak.after):
        body.setup.append(f"{saved} = {body.needs.name('copy')}.deepcopy({value})")
    else:
        body.setup.append(f"{saved} = {_COPY_OF[kind or 'sequence']}({value})")
    refill = "extend" if kind == "sequence" else "update"
    body.teardown += [f"{value}.clear()", f"{value}.{refill}({saved})"]


def _restore_file(leak: StateChange, body: _Body) -> None:
    name = leak.name
    if name.startswith("~/"):
        where = f"{body.needs.name('pathlib.Path')}.home() / {json.dumps(name[2:])}"
    elif name.startswith("$TMPDIR/"):
        where = f"{body.needs.name('pathlib.Path')}({body.needs.name('tempfile')}.gettempdir(), {json.dumps(name[8:])})"
    else:
        body.param("request")
        where = f"request.config.rootpath / {json.dumps(name)}"
    path, saved = body.variable("path"), body.variable("saved", *name.split("/")[-1:])
    body.setup += [f"{path} = {where}", f"{saved} = {path}.read_bytes() if {path}.is_file() else None"]
    body.teardown.append(f"if {saved} is None:\n    {path}.unlink(missing_ok=True)\nelse:\n"
                         f"    {path}.write_bytes({saved})")


# --- a cleaner's statements, as the polluter's teardown --------------------------------------------


def cleaner_statements(text: str, path: str, function: str) -> list[cst.BaseStatement]:
    """The statements of the cleaner that may put state back: its body without its docstring and
    its bare assertions."""
    node = find_function(parse(text, path), function)
    if not isinstance(node.body, cst.IndentedBlock):
        raise EditError(f"{function} is written on one line")
    kept = []
    for index, statement in enumerate(node.body.body):
        small = statement.body if isinstance(statement, cst.SimpleStatementLine) else ()
        if small and all(isinstance(s, cst.Assert) for s in small):
            continue
        if index == 0 and len(small) == 1 and isinstance(small[0], cst.Expr) and isinstance(
                small[0].value, (cst.SimpleString, cst.ConcatenatedString)):
            continue
        kept.append(statement)
    return kept


def cleaner_teardown(text: str, path: str, polluters: Sequence[str], cleaner_text: str, cleaner_path: str,
                     cleaner: str, chosen: Sequence[int] | None, first_party: syntax.FirstParty) -> str:
    """``text`` with a fixture running the chosen statements of ``cleaner`` after each of ``polluters``
    (``pytest.mark.usefixtures`` on them), placed just above the first of them."""
    cleaner_module = parse(cleaner_text, cleaner_path)
    cleaner_node = find_function(cleaner_module, cleaner)
    statements = cleaner_statements(cleaner_text, cleaner_path, cleaner)
    chosen_statements = [statements[i] for i in (chosen if chosen is not None else range(len(statements)))]
    if not chosen_statements:
        raise EditError(f"{cleaner} has no statement that could put state back")
    module = parse(text, path)
    needs = syntax.Needs(module)
    used = _names_used(chosen_statements)
    if "self" in used or "cls" in used:
        raise EditError(f"the statements of {cleaner} use its class (self)")
    params = [p.name.value for p in cleaner_node.params.params if p.name.value in used]
    own = syntax.Bindings.of(module).names
    for name, bound in syntax.Bindings.of(cleaner_module).names.items():
        if name in used and name not in params and bound is not None and own.get(name) != bound:
            if name in own:
                raise EditError(f"{name} means something else in {path} than in {cleaner_path}")
            parent, _, last = bound.rpartition(".")
            needs.imports.append(syntax.Import(parent, last) if parent and last == name else syntax.Import(bound))
    pytest = needs.name("pytest")
    first = polluters[0].rsplit(".", 1)[-1]
    name = _free_name(syntax.Bindings.of(module), identifier("undo", first))
    doc = f"What {cleaner.rsplit('.', 1)[-1]} does to put the state back, after {', '.join(polluters)}."
    fixture = statements_of(f"@{pytest}.fixture\ndef {name}({', '.join(params)}):\n"
                            f'    """{_escaped(doc)}"""\n    yield\n')
    function = fixture[0]
    assert isinstance(function, cst.FunctionDef) and isinstance(function.body, cst.IndentedBlock)
    fixture[0] = function.with_changes(body=function.body.with_changes(
        body=[*function.body.body, *chosen_statements]))
    decorated = {}
    for polluter in polluters:
        node = find_function(module, polluter)
        decorated[node] = syntax.with_decorator(node, f'{pytest}.mark.usefixtures("{name}")')
    index = min(index_of_top(module, polluter) for polluter in polluters)
    module = syntax.replace_nodes(module, decorated)  # type: ignore[arg-type]
    module = insert_at(module, index, fixture)
    return syntax.add_imports(module, needs.imports, first_party).code


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.found.add(node.value)


def _names_used(statements: Sequence[cst.BaseStatement]) -> set[str]:
    visitor = _Names()
    for statement in statements:
        statement.visit(visitor)
    return visitor.found
