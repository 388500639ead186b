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


# --- the generated tests: all pass -------------------------------------------------------------------
# Each benchmark keeps the workload its published numbers were measured on: bench_run's tests
# check a little more (thorough=True), bench_bisect's innocent tests a little less.


def tests_per_file(tests: int, files: int) -> list[int]:
    base, extra = divmod(tests, files)
    return [base + (1 if index < extra else 0) for index in range(files)]


def plain_tests(index: int, count: int, thorough: bool = True) -> list[str]:
    tests = []
    for n in range(count):
        body = f'    assert text.slugify("Module {index} Case {n}!") == "module-{index}-case-{n}"\n'
        if thorough:
            body += f'    assert text.initials("module {index} case {n}") == "M{str(index)[0]}C{str(n)[0]}"\n'
        tests.append(f"def test_slugify_{n}():\n{body}")
    return tests


def fixture_tests(index: int, count: int, thorough: bool = True) -> list[str]:
    if count == 0:
        return []
    fixture = textwrap.dedent(f"""\
        @pytest.fixture
        def stock(catalog):
            inventory = Inventory()
            for name, amount in sorted(catalog.items())[:{index % 5 + 3}]:
                inventory.add(name, amount)
            return inventory
        """)
    tests = []
    for n in range(count):
        body = (f"    before = stock.total()\n    stock.add('extra-{n}', {n + 1})\n"
                f"    assert stock.total() == before + {n + 1}\n")
        if thorough:
            body += f"    stock.remove('extra-{n}', {n + 1})\n    assert stock.count('extra-{n}') == 0\n"
        tests.append(f"def test_stock_{n}(stock):\n{body}")
    return [fixture, *tests]


def class_tests(index: int, count: int, thorough: bool = True) -> list[str]:
    if count == 0:
        return []
    methods = ""
    for n in range(count):
        methods += (f"\n    def test_remove_{n}(self):\n        inventory = self.make()\n"
                    f"        inventory.remove('thing', {n % 3 + 1})\n"
                    f"        assert inventory.count('thing') == {10 - (n % 3 + 1)}\n")
        if thorough:
            methods += "        with pytest.raises(KeyError):\n            inventory.remove('thing', 100)\n"
    return [f"class TestInventory{index}:\n    def make(self):\n        inventory = Inventory()\n"
            f"        inventory.add('thing', 10)\n        return inventory\n{methods}"]


def param_tests(index: int, count: int) -> list[str]:
    if count == 0:
        return []
    cases = "".join(f'    ("a={n}; b={index}", {{"a": {n}, "b": {index}}}),\n' for n in range(count))
    ids = ", ".join(f'"case{n}"' for n in range(count))
    return [f'@pytest.mark.parametrize(("raw", "expected"), [\n{cases}], ids=[{ids}])\n'
            "def test_parse_pairs(raw, expected):\n"
            "    assert text.parse_pairs(raw) == expected\n"]
