"""`[tool.wsdoctor]`: what it sets, flags winning, and one-line errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_project
from wsdoctor.config import DEFAULT_KEEP_RUNS, chosen, load_config
from wsdoctor.exits import UsageError

FULL = """\
[tool.wsdoctor]
paths = ["tests/unit"]
pytest_args = ["-m", "not slow"]
python = ".venv/bin/python"
timeout = 30
workers = 3
budget = 120.5
fail_on = ["order-dependent", "not-run"]
baseline = "ci/baseline.yaml"
playbooks = ["ci/playbooks"]
keep_runs = 4
"""


def test_every_key_is_read(tmp_path: Path) -> None:
    make_project(tmp_path, {"pyproject.toml": FULL})
    config = load_config(tmp_path)
    assert config.source == tmp_path / "pyproject.toml"
    assert (config.paths, config.pytest_args, config.python) == (("tests/unit",), ("-m", "not slow"),
                                                                  ".venv/bin/python")
    assert (config.timeout, config.workers, config.budget, config.keep_runs) == (30.0, 3, 120.5, 4)
    assert config.fail_on == ("order-dependent", "not-run")
    assert config.baseline == tmp_path / "ci" / "baseline.yaml"
    assert config.playbooks == (tmp_path / "ci" / "playbooks",)


def test_no_pyproject_or_no_table_means_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path).source is None
    make_project(tmp_path, {"pyproject.toml": "[project]\nname = 'x'\n"})
    config = load_config(tmp_path)
    assert (config.root, config.workers, config.keep_runs, config.playbooks) == (tmp_path, None,
                                                                                  DEFAULT_KEEP_RUNS, ())


def test_the_nearest_pyproject_above_is_the_project_and_its_paths_are_made_relative(tmp_path: Path) -> None:
    make_project(tmp_path, {"pyproject.toml": '[tool.wsdoctor]\npaths = ["tests"]\n', "tests/sub/x.txt": ""})
    config = load_config(tmp_path / "tests" / "sub")
    assert config.root == tmp_path
    assert config.paths == ("..",)


@pytest.mark.parametrize(("table", "expected"), [
    ("worker = 2", "unknown key 'worker'; did you mean 'workers'?"),
    ("colour = 'blue'", "unknown key 'colour'; known keys: paths, pytest_args"),
    ("workers = 'two'", "workers must be a whole number >= 1, not 'two'"),
    ("workers = true", "workers must be a whole number >= 1, not True"),
    ("workers = 0", "workers must be a whole number >= 1, not 0"),
    ("timeout = -1", "timeout must be a number of seconds >= 0 (at most a week), not -1"),
    ("budget = 0", "budget must be a number of seconds > 0 (at most a week), not 0"),
    ("timeout = inf", "timeout must be a number of seconds >= 0 (at most a week), not inf"),
    ("budget = nan", "budget must be a number of seconds > 0 (at most a week), not nan"),
    ("timeout = 1e12", "timeout must be a number of seconds >= 0 (at most a week), not 1000000000000.0"),  # main: ran,
    # and every child died in an INTERNALERROR (OverflowError): one collection-error, exit 1
    ("paths = 'tests'", "paths must be a list of strings"),
    ("pytest_args = ['-x', 3]", "pytest_args must be a list of strings"),
    ("fail_on = ['order-dependant']", "fail_on must be a list of verdicts out of fail, order-dependent"),
    ("keep_runs = 2.5", "keep_runs must be a whole number >= 1, not 2.5"),
])
def test_an_unknown_key_or_a_wrong_type_names_the_key(tmp_path: Path, table: str, expected: str) -> None:
    make_project(tmp_path, {"pyproject.toml": f"[tool.wsdoctor]\n{table}\n"})
    with pytest.raises(UsageError, match=r"pyproject.toml \[tool.wsdoctor\]") as raised:
        load_config(tmp_path)
    assert expected in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_broken_pyproject_is_bad_input(tmp_path: Path) -> None:
    make_project(tmp_path, {"pyproject.toml": "[tool.wsdoctor\n"})
    with pytest.raises(UsageError, match=r"cannot read .*pyproject.toml"):
        load_config(tmp_path)


def test_a_flag_wins_over_the_config_which_wins_over_the_default() -> None:
    assert chosen(2, 3, 4) == 2
    assert chosen(None, 3, 4) == 3
    assert chosen(None, None, 4) == 4
    assert chosen(0.0, 30.0, 60.0) == 0.0  # a flag of 0 is given, not missing


def test_the_command_line_takes_the_config_and_flags_win(tmp_path: Path, wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"pyproject.toml": "[tool.wsdoctor]\npaths = ['no/such/dir']\n"})
    done = wsdoctor_in_process(tmp_path, "run")
    assert done.exit_code == 2 and "path not found: no/such/dir" in done.stderr
    done = wsdoctor_in_process(tmp_path, "run", "also/missing")
    assert done.exit_code == 2 and "path not found: also/missing" in done.stderr


def test_a_config_error_ends_every_command_with_one_line_and_exit_2(tmp_path: Path,
                                                                   wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    make_project(tmp_path, {"pyproject.toml": "[tool.wsdoctor]\nworkers = 'many'\n"})
    for args in (["run"], ["bisect", "tests/test_a.py::test_x"], ["report"], ["playbooks", "list"]):
        done = wsdoctor_in_process(tmp_path, *args)
        lines = [line for line in done.stderr.splitlines() if line.startswith("wsdoctor: error:")]
        assert done.exit_code == 2, args
        assert len(lines) == 1 and "workers must be a whole number" in lines[0], done.stderr
