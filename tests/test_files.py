"""Files are state: the tree and the top of HOME as a run or bisect found them, put back after children."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_project
from wsdoctor.execution.files import FileState


def project(tmp_path: Path) -> tuple[Path, Path]:
    root, home = tmp_path / "project", tmp_path / "home"
    (root / "tests").mkdir(parents=True)
    (root / ".wsdoctor").mkdir()
    home.mkdir()
    (root / "settings.ini").write_text("[app]\ndebug = false\n")
    (root / "tests" / "data.json").write_text("{}")
    (home / ".netrc").write_text("machine example.org\n")
    return root, home


def test_what_children_created_changed_or_deleted_is_put_back_and_kept_aside(tmp_path: Path) -> None:
    root, home = project(tmp_path)
    state = FileState.capture(root, root / ".wsdoctor" / "files-left", home=home)
    (root / "feature_flags.json").write_text('{"compression": false}')
    (root / "out").mkdir()
    (root / "out" / "report.txt").write_text("x")
    (root / "settings.ini").write_text("[app]\ndebug = true\n")
    (root / "tests" / "data.json").unlink()
    (home / ".wsclientrc").write_text("reconnect = false\n")
    (home / ".netrc").unlink()
    (root / "tests" / "__pycache__").mkdir()  # bytecode is nobody's state
    (root / ".wsdoctor" / "record.json").write_text("{}")  # nor are wsdoctor's records

    restored = state.restore()

    assert sorted((r.shown, r.change, r.restored) for r in restored) == [
        ("feature_flags.json", "created", True), ("out", "created", True),
        ("settings.ini", "modified", True), ("tests/data.json", "deleted", True),
        ("~/.netrc", "deleted", True), ("~/.wsclientrc", "created", True)]
    assert not (root / "feature_flags.json").exists() and not (root / "out").exists()
    assert (root / "settings.ini").read_text() == "[app]\ndebug = false\n"
    assert (root / "tests" / "data.json").read_text() == "{}"
    assert (home / ".netrc").read_text() == "machine example.org\n" and not (home / ".wsclientrc").exists()
    aside = {p.name.split("-", 1)[1]: p for p in (root / ".wsdoctor" / "files-left").iterdir()}
    assert sorted(aside) == [".wsclientrc", "feature_flags.json", "out", "settings.ini"]  # nothing lost
    assert aside["settings.ini"].read_text() == "[app]\ndebug = true\n"
    assert state.restore() == []  # as it was: nothing more to do


def test_a_file_too_large_to_keep_is_said_not_put_back(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import wsdoctor.execution.files as files

    root, home = project(tmp_path)
    (root / "big.sqlite").write_bytes(b"\0" * 64)
    monkeypatch.setattr(files, "MAX_FILE_SAVED", 32)
    state = FileState.capture(root, tmp_path / "aside", home=home)
    (root / "big.sqlite").write_bytes(b"\1" * 64)
    [restored] = state.restore()
    assert (restored.shown, restored.change, restored.restored) == ("big.sqlite", "modified", False)
    assert str(restored) == "big.sqlite (modified; could not be put back)"


@pytest.mark.e2e
def test_wsdoctors_own_log_in_the_project_is_not_put_back(tmp_path: Path) -> None:
    """`wsdoctor run > wsdoctor.log 2>&1` in the project: on main every phase "put back" the log as it
    was when the run started (empty), erasing what wsdoctor had written (a bisect also took the log
    for a file its trials leave, and ran its trials one at a time from then on)."""
    root = make_project(tmp_path / "project", {
        "tests/test_a.py": "import os\n\ndef test_sets():\n    os.environ['X'] = '1'\n",
        "tests/test_b.py": "import os\n\ndef test_reads():\n    assert 'X' not in os.environ\n"})
    log = root / "wsdoctor.log"
    with log.open("w") as handle:
        done = subprocess.run([sys.executable, "-m", "wsdoctor", "run", "--workers", "2"], cwd=root,
                              stdout=handle, stderr=subprocess.STDOUT, timeout=300)
    text = log.read_text()
    assert done.returncode == 1, text
    assert "\0" not in text and text.startswith("wsdoctor ") and "collecting and running the suite" in text
    assert "put back" not in text and "1 order-dependent" in text
