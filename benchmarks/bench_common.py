"""Shared by the benchmarks: the generated suites' app and config, and where a benchmark works."""

from __future__ import annotations

import os
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

PYCACHE_DIR = ".pycache"  # inside each generated project

APP_TEXT = '''\
"""Text helpers."""

from __future__ import annotations

import re

_NON_WORD = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    return _NON_WORD.sub("-", text.lower()).strip("-")


def parse_pairs(raw: str) -> dict[str, int]:
    """'a=1; b=2' -> {'a': 1, 'b': 2}"""
    pairs = (part.split("=", 1) for part in raw.split(";") if part.strip())
    return {key.strip(): int(value) for key, value in pairs}


def initials(name: str) -> str:
    return "".join(word[0].upper() for word in name.split() if word)
'''

APP_INVENTORY = '''\
"""A small stateful class."""

from __future__ import annotations


class Inventory:
    def __init__(self) -> None:
        self._items: dict[str, int] = {}

    def add(self, name: str, count: int = 1) -> None:
        if count <= 0:
            raise ValueError("count must be positive")
        self._items[name] = self._items.get(name, 0) + count

    def remove(self, name: str, count: int = 1) -> None:
        left = self._items.get(name, 0) - count
        if left < 0:
            raise KeyError(name)
        if left:
            self._items[name] = left
        else:
            del self._items[name]

    def count(self, name: str) -> int:
        return self._items.get(name, 0)

    def total(self) -> int:
        return sum(self._items.values())
'''

CONFTEST = '''\
import pytest


@pytest.fixture(scope="session")
def catalog():
    return {f"item-{n}": n % 7 + 1 for n in range(50)}
'''

PYTEST_INI = """\
[pytest]
testpaths = tests
pythonpath = .
asyncio_default_fixture_loop_scope = function
"""


def in_work_dir(keep: Path | None, name: str, work: Callable[[Path], int]) -> int:
    """Run ``work`` in ``keep`` (which must be new or empty), or in a temporary directory."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        if any(keep.iterdir()):
            raise SystemExit(f"{name}: --keep {keep} is not empty")
        return work(keep.resolve())
    with tempfile.TemporaryDirectory(prefix=f"wsdoctor-{name}-") as tmp:
        return work(Path(tmp))


def child_environment(project: Path) -> dict[str, str]:
    """Bytecode caching on, as for most users, but kept inside the project (no writes elsewhere)."""
    env = dict(os.environ)
    for name in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_CURRENT_TEST", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    env["PYTHONPYCACHEPREFIX"] = str(project / PYCACHE_DIR)
    return env


# --- the generated tests: all pass, each kind in a file of its own share ----------------------------------


def tests_per_file(tests: int, files: int) -> list[int]:
    base, extra = divmod(tests, files)
    return [base + (1 if index < extra else 0) for index in range(files)]


def plain_tests(index: int, count: int) -> list[str]:
    return [textwrap.dedent(f'''\
        def test_slugify_{n}():
            assert text.slugify("Module {index} Case {n}!") == "module-{index}-case-{n}"
            assert text.initials("module {index} case {n}") == "M{str(index)[0]}C{str(n)[0]}"
        ''') for n in range(count)]


def fixture_tests(index: int, count: int) -> list[str]:
    if count == 0:
        return []
    fixture = textwrap.dedent(f'''\
        @pytest.fixture
        def stock(catalog):
            inventory = Inventory()
            for name, amount in sorted(catalog.items())[:{index % 5 + 3}]:
                inventory.add(name, amount)
            return inventory
        ''')
    tests = [textwrap.dedent(f'''\
        def test_stock_{n}(stock):
            before = stock.total()
            stock.add("extra-{n}", {n + 1})
            assert stock.total() == before + {n + 1}
            stock.remove("extra-{n}", {n + 1})
            assert stock.count("extra-{n}") == 0
        ''') for n in range(count)]
    return [fixture, *tests]


def class_tests(index: int, count: int) -> list[str]:
    if count == 0:
        return []
    methods = "".join(textwrap.indent(textwrap.dedent(f'''\
        def test_remove_{n}(self):
            inventory = self.make()
            inventory.remove("thing", {n % 3 + 1})
            assert inventory.count("thing") == {10 - (n % 3 + 1)}
            with pytest.raises(KeyError):
                inventory.remove("thing", 100)

        '''), "    ") for n in range(count))
    header = textwrap.dedent(f'''\
        class TestInventory{index}:
            def make(self):
                inventory = Inventory()
                inventory.add("thing", 10)
                return inventory

        ''')
    return [header + methods.rstrip() + "\n"]


def param_tests(index: int, count: int) -> list[str]:
    if count == 0:
        return []
    cases = "".join(f'    ("a={n}; b={index}", {{"a": {n}, "b": {index}}}),\n' for n in range(count))
    ids = ", ".join(f'"case{n}"' for n in range(count))
    return [f'@pytest.mark.parametrize(("raw", "expected"), [\n{cases}], ids=[{ids}])\n'
            "def test_parse_pairs(raw, expected):\n"
            "    assert text.parse_pairs(raw) == expected\n"]
