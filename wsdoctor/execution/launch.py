"""What starting a child needs, and only the standard library: the child package staged where its
PYTHONPATH finds it, and a child's place (its temp directory, mark, watched pipe) and environment.

Light on purpose: wsdoctor's entry starts the gate's first children with it before typer, rich and
the records are imported (wsdoctor.execution.prestart.start_early); the supervisor
(wsdoctor.execution.child) starts every other child with the same functions, so a child started
early is the child the supervisor would have started.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import secrets
import shutil
import tempfile
from pathlib import Path

from wsdoctor import child as child_package
from wsdoctor.child import reaper
from wsdoctor.paths import PACKAGES_DIR

STAGED_INIT = '"""wsdoctor, staged for its child processes: only the wsdoctor.child package is here."""\n'
STAGING_PREFIX = ".staging-"  # a package being written, renamed into place once whole

RUN_TOKEN = secrets.token_hex(4)  # this wsdoctor's children are marked "<RUN_TOKEN>/<number>"
_CHILD_NUMBERS = itertools.count(1)  # across every supervisor of this process: marks never repeat
_WATCHED_PIPE: tuple[int, int] | None = None


def packages_dir(state: Path) -> Path:
    """Where the staged child packages of a project's .wsdoctor/ are."""
    return state / PACKAGES_DIR


def record_packages(record_dir: Path) -> Path:
    """The staged child packages beside a record's directory (.wsdoctor/runs/<id>)."""
    return packages_dir(record_dir.parents[1])


def child_package_files(source: Path | None = None) -> dict[str, bytes]:
    """The child package's modules (``source``: its directory, wsdoctor's own by default), by name."""
    directory = source or Path(child_package.__file__).parent
    return {path.name: path.read_bytes() for path in sorted(directory.glob("*.py"))}


def package_digest(files: dict[str, bytes]) -> str:
    """Names a staged package by its content: another wsdoctor's child package gets another directory."""
    digest = hashlib.sha256(STAGED_INIT.encode())
    for name, data in sorted(files.items()):
        digest.update(f"{name}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()[:16]


def stage_child_package(target: Path, files: dict[str, bytes] | None = None) -> Path:
    """Write the child side (the wsdoctor.child package, whole) into a directory for PYTHONPATH.

    Putting wsdoctor's own site-packages on the child's path would shadow the
    user's pytest and plugins with ours; this directory holds nothing else, and
    no parent-side module: the staged ``wsdoctor/__init__.py`` is an empty one.
    """
    package = target / "wsdoctor"
    (package / "child").mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(STAGED_INIT, encoding="utf-8")
    for name, data in (child_package_files() if files is None else files).items():
        (package / "child" / name).write_bytes(data)
    return target


def staged_child_package(packages: Path, source: Path | None = None) -> Path:
    """The child package staged in ``packages``/<digest of its files>/, written there the first time
    and reused after. It is written whole under another name, then renamed: a wsdoctor started
    beside never sees half of one, and of two that stage it at once, both use the one renamed first.
    Using it marks it as used now: pruning spares a package used lately (wsdoctor.store.prune)."""
    files = child_package_files(source)
    target = packages / package_digest(files)
    if target.is_dir():
        os.utime(target)
        return target
    packages.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=packages))
    try:
        stage_child_package(staging, files)
        os.chmod(staging, 0o755)  # mkdtemp's is 0o700
        os.rename(staging, target)
    except OSError:
        if not target.is_dir():  # not another wsdoctor's rename first: a real failure
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # renamed: nothing is left there
    return target


def watched_pipe_read_end() -> int:
    """The read end every child watches; the write end stays open in this process only, until it
    ends (however it ends: then every child reads end-of-file and ends what it started)."""
    global _WATCHED_PIPE
    if _WATCHED_PIPE is None:
        _WATCHED_PIPE = os.pipe()  # both ends not inheritable: a child gets the read end by pass_fds
    return _WATCHED_PIPE[0]


def new_place() -> tuple[Path, str, int]:
    """A new child's temp directory (what a test leaves in the temp directory cannot reach another
    child: tests write there outside tmp_path too), mark and watched descriptor."""
    temp = Path(tempfile.mkdtemp(prefix="wsdoctor-tmp-"))
    return temp, f"{RUN_TOKEN}/{next(_CHILD_NUMBERS)}", watched_pipe_read_end()


def child_environment(child_path: Path, temp: Path, mark: str, watched: int) -> dict[str, str]:
    """A child's environment: wsdoctor's, with its temp directory, the staged package first on its
    path, and what the reaper finds it by."""
    env = dict(os.environ)
    env["TMPDIR"] = env["TEMP"] = env["TMP"] = str(temp)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(child_path), env.get("PYTHONPATH", "")) if p)
    env.pop("PYTEST_CURRENT_TEST", None)
    env[reaper.MARK_VARIABLE] = mark
    env[reaper.PARENT_FD_VARIABLE] = str(watched)
    return env
