"""Playbook templates filled with evidence: Markdown out, test text escaped, no holes.

A template is Markdown with ``{placeholder}`` fields. Filling it:

* a value is made safe for where it lands: in a fenced code block it stays as it is (a run of
  three backticks is broken up), in an inline code span backticks and line breaks are replaced,
  in text every Markdown and HTML character is backslash-escaped, so ``<script>`` or
  ``<MagicMock name='x' id='1'>`` from a test reads as text everywhere and never vanishes;
  control sequences (ANSI, OSC) are removed everywhere;
* a field without evidence never shows a hole: ``{name:words}`` gives its own words; in a
  fenced code block a name from the user's code (``leaked_module``, ``polluter_file``, ...)
  falls back to a clearly generic placeholder (the code still reads as code); anywhere else
  the field drops its line, so a line such as ``Left by {polluters}: ...`` is left out when
  nothing was bisected, and prose never states a generic name as a fact;
* a field with several values (the attributes of one leaked object) repeats its line in a
  fenced code block (one ``.clear()`` per container) and is listed, comma-separated, in text.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

from wsdoctor.text import printable

Value = str | tuple[str, ...]

# Names from the user's code: where the evidence has none, advice names them generically.
GENERIC_NAMES: Mapping[str, str] = {
    "leaked_module": "your_app.module",
    "leaked_object": "shared_object",
    "leaked_attribute": "attribute",
    "leaked_class": "SomeClass",
    "leaked_path": "your_app.module.shared_object",
    "env_var": "SOME_VARIABLE",
    "stubbed_module": "some_package",
    "importing_module": "your_app.module_that_imports_it",
    "polluter_file": "tests/test_polluter.py",
    "polluter_test": "test_that_leaves_it",
    "victim_file": "tests/test_victim.py",
    "victim_test": "test_victim",
    "created_at": "the line that called it",
    "creator_test": "test_that_calls_it",
    "attr_owner_import": "from your_app.module import SomeClass",
    "attr_owner": "SomeClass",
    "attr_name": "attribute",
    "mock_target": "mock.method",
    "mock_method": "method",
    "mock_check": "called_once",
    "mock_args": "",
}

# Markdown's and HTML's special characters; an underscore inside a word (test_send_message) is
# never emphasis in CommonMark, so it stays as it is and node ids read as they are.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]<>#&~]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


def fill(template: str, values: Mapping[str, Value]) -> str:
    lines: list[str] = []
    fence = ""
    for line in template.splitlines():
        opening = _FENCE.match(line)
        if opening and not fence:
            fence = opening.group(1)[0] * 3
        elif opening and fence and opening.group(1).startswith(fence):
            fence = ""
            lines.append(line)
            continue
        lines += _fill_line(line, values, in_code_block=bool(fence) and not opening)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _fill_line(line: str, values: Mapping[str, Value], in_code_block: bool) -> list[str]:
    parts = list(string.Formatter().parse(line))
    repeated = next((values[name] for _, name, _, _ in parts
                     if name and isinstance(values.get(name), tuple) and len(values[name]) > 1), None)
    if in_code_block and isinstance(repeated, tuple):
        return [out for value in repeated for out in _fill_line(line, {**values, **{
            name: value for _, name, _, _ in parts if name and values.get(name) == repeated}}, True)]
    text: list[str] = []
    backticks = 0
    for literal, name, spec, _ in parts:
        text.append(literal)
        backticks += literal.count("`")
        if name is None:
            continue
        value = values.get(name)
        if isinstance(value, tuple):
            value = ", ".join(value) if value else None
        if not value:
            if spec:
                text.append(spec)  # the author's words for what is not known
                continue
            if not (in_code_block and name in GENERIC_NAMES):
                return []  # nothing known for this line: leave it out
            text.append(GENERIC_NAMES[name])
            continue
        text.append(_safe(value, in_code_block, in_code_span=backticks % 2 == 1))
    return ["".join(text)]


def _safe(value: str, in_code_block: bool, in_code_span: bool) -> str:
    value = printable(value)
    if in_code_block:
        return value.replace("```", "`\u200b``")
    value = " ".join(value.splitlines())
    if in_code_span:
        return value.replace("`", "'")
    return markdown_text(value)


def markdown_text(text: str) -> str:
    """Test-supplied text for Markdown outside code: every special character backslash-escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", printable(text))


def code_span(text: str) -> str:
    """Test-supplied text as inline code, whatever backticks it holds."""
    text = " ".join(printable(text).splitlines())
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{padding}{text}{padding}{ticks}"


def fenced(lines: list[str]) -> list[str]:
    """Lines as a fenced code block longer than any backtick run inside it."""
    body = [printable(line) for line in lines]
    longest = max((len(run) for line in body for run in re.findall(r"`{3,}", line)), default=2)
    fence = "`" * max(3, longest + 1)
    return [fence, *body, fence]
