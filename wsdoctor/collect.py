"""Collect the suite in a child; when files fail to collect, collect each of them alone."""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path

from wsdoctor.childio import ChildOutput
from wsdoctor.execution.pool import Executor
from wsdoctor.exits import UsageError
from wsdoctor.paths import shown_path
from wsdoctor.records import ChildProcess, ChildStatus, CollectedTest, Collection, CollectionError, Versions

PYTEST_USAGE_ERROR = 4
_CONFTEST = re.compile(r"ImportError while loading conftest '([^']+)'")


MAX_HANGING_FILES = 5  # files whose import hangs, each set aside: more, and the suite is not collected


def collect_suite(executor: Executor, paths: Sequence[str]) -> tuple[Collection, Versions | None]:
    return collection_from(executor, paths, *executor.collect(paths))


def collection_from(executor: Executor, paths: Sequence[str], child: ChildProcess, output: ChildOutput,
                    hung: tuple[CollectionError, ...] = ()) -> tuple[Collection, Versions | None]:
    """The suite's collection, from a child that collected it (and maybe ran it too).

    A file whose import overran the collection deadline is a hang of its own: the suite is
    collected again without it (and every later child ignores it).
    """
    conftest = _conftest_failure(child)
    if conftest is not None:
        return _conftest_collection(conftest, child, executor.settings.cwd), output.versions
    _raise_on_usage_error(child, output)
    if output.collected is None:
        if child.status is ChildStatus.HUNG and output.collecting and len(hung) < MAX_HANGING_FILES:
            error = _hang_at_import(executor, output.collecting, child)
            executor.settings = dataclasses.replace(executor.settings,
                                                    ignored=(*executor.settings.ignored, error.path))
            return collection_from(executor, paths, *executor.collect(paths), hung=(*hung, error))
        error = CollectionError(path=" ".join(paths) or ".", message=child.hang_dump or child.stderr_tail,
                                collects_alone=False, tests_in_file=0, hung=child.status is ChildStatus.HUNG)
        if error.hung:
            error = _hung_conftest(error, executor.settings.cwd)
        return Collection(rootdir=str(executor.settings.cwd), inifile=None, tests=(),
                          errors=(*hung, error)), output.versions
    tests = list(output.collected)
    errors = list(hung)
    rootdir = Path(output.rootdir or executor.settings.cwd)
    for collector, message in output.collect_errors.items():
        error, more_tests = _collect_alone(executor, rootdir, collector, message)
        errors.append(error)
        known = {t.nodeid for t in tests}
        tests += [t for t in more_tests if t.nodeid not in known]
    if not tests and not errors:
        raise UsageError(f"no tests collected in {' '.join(paths) or '.'}: point wsdoctor at a "
                         "directory or file that has pytest tests")
    return Collection(rootdir=str(rootdir), inifile=output.inifile, tests=tuple(tests),
                      errors=tuple(errors)), output.versions


def _collect_alone(executor: Executor, rootdir: Path, collector: str,
                   message: str) -> tuple[CollectionError, tuple[CollectedTest, ...]]:
    path = shown_path(rootdir / collector, executor.settings.cwd)
    _, alone = executor.collect([path], label=f"collect {path}")
    imports_alone = alone.collected is not None and not alone.collect_errors
    error = CollectionError(path=path, message=message, collects_alone=imports_alone,
                            tests_in_file=count_tests_statically(rootdir / collector))
    return error, (alone.collected or ()) if imports_alone else ()


def _hang_at_import(executor: Executor, path: str, child: ChildProcess) -> CollectionError:
    return CollectionError(path=path, message=child.hang_dump, collects_alone=False,
                           tests_in_file=count_tests_statically(executor.settings.cwd / path), hung=True)


_CONFTEST_IMPORT = re.compile(r'File "(?P<path>[^"]*conftest\.py)", line \d+ in <module>')


def _hung_conftest(error: CollectionError, cwd: Path) -> CollectionError:
    """A hang before collection began: when a conftest.py was being imported, it is the one to blame,
    with the tests under its directory that it hides (counted statically)."""
    found = _CONFTEST_IMPORT.search(error.message)
    if found is None:
        return error
    conftest = Path(found["path"])
    hidden = sum(count_tests_statically(path) for path in test_files_under(conftest.parent))
    return dataclasses.replace(error, path=shown_path(conftest, cwd), tests_in_file=hidden)


def count_tests_statically(path: Path) -> int:
    """Test functions a file defines, for a file that cannot be imported to ask pytest."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return 0
    count = 0
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            count += 1
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            count += sum(1 for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                         and n.name.startswith("test"))
    return count


def _conftest_failure(child: ChildProcess) -> str | None:
    match = _CONFTEST.search(child.stderr_tail)
    return match.group(1) if match and child.exit_code == PYTEST_USAGE_ERROR else None


def _conftest_collection(conftest: str, child: ChildProcess, cwd: Path) -> Collection:
    """A conftest.py that does not import stops pytest before it collects anything: every test under
    its directory is hidden (counted statically: nothing can be imported to ask pytest)."""
    hidden = sum(count_tests_statically(path) for path in test_files_under(Path(conftest).parent))
    error = CollectionError(path=shown_path(Path(conftest), cwd), message=child.stderr_tail.strip(),
                            collects_alone=False, tests_in_file=hidden)
    return Collection(rootdir=str(Path(conftest).parent), inifile=None, tests=(), errors=(error,))


def test_files_under(directory: Path) -> list[Path]:
    """Files pytest collects by default (test_*.py, *_test.py) below a directory, hidden ones and
    virtual environments left out."""
    found = {*directory.rglob("test_*.py"), *directory.rglob("*_test.py")}
    return sorted(path for path in found if not any(part.startswith(".") or part in ("site-packages", "node_modules")
                                                     for part in path.relative_to(directory).parts))


def _raise_on_usage_error(child: ChildProcess, output: ChildOutput) -> None:
    if child.exit_code != PYTEST_USAGE_ERROR or output.exitcode is not None:
        return
    lines = [line.strip() for line in child.stderr_tail.splitlines() if line.strip()]
    errors = [line.split(": error: ", 1)[1] for line in lines if ": error: " in line]
    message = (errors or lines or ["pytest refused its arguments"])[0]
    raise UsageError(f"pytest rejected the arguments: {message}; check the options after `--`")
