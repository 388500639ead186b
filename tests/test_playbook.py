"""Playbooks: validation names file, line and key; version guards; ours and the user's."""

from __future__ import annotations

from pathlib import Path

import pytest

from wsdoctor.playbook import builtin_dir, load_all, load_file
from wsdoctor.versions import version_satisfies

GOOD = """\
id: my-leak
title: A leak of ours
confidence: medium
match:
  - failure: "assert (?P<seen>\\\\d+) == (?P<expected>\\\\d+)"
    verdict: [order-dependent]
phenomenon: "{victim} saw {seen} instead of {expected}"
cause: "{polluters} left {leaked_name} behind"
solution: "Reset it in a fixture."
lesson: "Module state outlives tests."
"""


def write(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_good_playbook_loads(tmp_path: Path) -> None:
    playbook, problems = load_file(write(tmp_path, GOOD))
    assert problems == []
    assert playbook is not None and playbook.id == "my-leak" and playbook.match[0].verdicts == ("order-dependent",)


@pytest.mark.parametrize(("change", "line", "key", "message"), [
    (("confidence: medium", "confidence: certain"), 3, "confidence", "must be one of high, medium, low"),
    (("    verdict: [order-dependent]", "    verdict: order-dependent"), 6, "match.0.verdict", "non-empty list"),
    (('  - failure: "assert', '  - failure: "assert ((?P<x>'), 5, "match.0.failure", "not a valid regular expression"),
    (("    verdict:", "    colour: red\n    verdict:"), 6, "match.0.colour", "unknown condition"),
    (('phenomenon: "{victim}', 'phenomenon: "{nobody} {victim}'), 7, "phenomenon", "unknown placeholder {nobody}"),
    (("lesson:", "requires:\n  python: soon\nlesson:"), 11, "requires.python", "not a version specifier"),
    (("id: my-leak", "id: My Leak"), 1, "id", "kebab-case"),
    (("title: A leak of ours\n", ""), 1, "title", "missing"),
])
def test_problems_name_file_line_and_key(tmp_path: Path, change: tuple[str, str], line: int, key: str,
                                         message: str) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    playbook, problems = load_file(path)
    assert playbook is None
    assert [(p.path, p.line, p.key) for p in problems] == [(str(path), line, key)]
    assert message in problems[0].message


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    _, problems = load_file(write(tmp_path, "!!python/object/apply:os.system ['echo pwned']\n"))
    assert len(problems) == 1 and "not valid YAML" in problems[0].message


@pytest.mark.parametrize(("version", "spec", "expected"), [
    ("3.12.1", ">=3.12", True), ("3.11.7", ">=3.12", False), ("3.11.7", "<3.12", True),
    ("1.5.0", ">=1.0,<2", True), ("0.21.1", ">=1.0,<2", False), ("", ">=1.0", False), ("9.2.0", "==9.2", True),
])
def test_version_guards(version: str, spec: str, expected: bool) -> None:
    assert version_satisfies(version, spec) is expected


def test_every_builtin_playbook_is_valid() -> None:
    playbooks, problems = load_all()
    assert [str(p) for p in problems] == []
    # load_all trusts ours without validating them: this is where that trust is earned
    assert [str(p) for path in sorted(builtin_dir().glob("*.yaml")) for p in load_file(path)[1]] == []
    assert len({p.id for p in playbooks}) == len(list(builtin_dir().glob("*.yaml")))


def test_a_users_playbook_replaces_ours_with_the_same_id(tmp_path: Path) -> None:
    builtin, _ = load_all()
    theirs = write(tmp_path, GOOD.replace("id: my-leak", f"id: {builtin[0].id}").replace("A leak of ours", "Ours now"),
                   f"{builtin[0].id}.yaml")
    merged, problems = load_all([theirs.parent])
    assert problems == []
    assert next(p for p in merged if p.id == builtin[0].id).title == "Ours now"
    assert len(merged) == len(builtin)


def test_validate_command_lists_every_problem_and_exits_1(tmp_path: Path, wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path, GOOD.replace("confidence: medium", "confidence: certain"), "bad.yaml")
    write(tmp_path, GOOD, "good.yaml")
    done = wsdoctor_in_process(tmp_path, "playbooks", "validate", str(tmp_path))
    assert done.exit_code == 1
    assert f"{tmp_path / 'bad.yaml'}:3: confidence: must be one of high, medium, low" in done.stdout
    assert "2 playbook file(s), 1 problem(s)" in done.stdout


def test_pyproject_playbook_dirs_are_used(tmp_path: Path, wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "team").mkdir()
    write(tmp_path / "team", GOOD, "my-leak.yaml")
    (tmp_path / "pyproject.toml").write_text('[tool.wsdoctor]\nplaybooks = ["team"]\n')
    listed = wsdoctor_in_process(tmp_path, "playbooks", "list")
    shown = wsdoctor_in_process(tmp_path, "playbooks", "show", "my-leak")
    assert (listed.exit_code, shown.exit_code) == (0, 0)
    assert "my-leak" in listed.stdout and "A leak of ours" in shown.stdout


def test_a_version_guard_on_one_alternative_only_skips_that_alternative() -> None:
    from wsdoctor.analysis.insights import insights_for
    from wsdoctor.playbook import Condition, Playbook
    from wsdoctor.records import Confidence, TestEvidence, Verdict

    playbook = Playbook(id="p", title="t", confidence=Confidence.MEDIUM, phenomenon="{victim}", cause="c", solution="s",
                        lesson="l", match=(Condition(failure="not a valid assertion", requires=(("python", ">=3.12"),)),
                                           Condition(static=("called-once-assertion",))))
    failing = TestEvidence(nodeid="t.py::test_a", verdict=Verdict.FAIL,
                       message="AttributeError: 'called_once' is not a valid assertion")
    on_311 = insights_for([failing], [playbook], {"python": "3.11.7"})
    on_312 = insights_for([failing], [playbook], {"python": "3.12.1"})
    assert [i.playbook for i in on_311] == [None]  # the guarded alternative does not apply: unmatched
    assert [i.playbook for i in on_312] == ["p"]
