"""The CI configurations README shows: valid YAML, shards that cover 1..N, a merge after them
that reads what the shards uploaded, and only wsdoctor options that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from wsdoctor.cli import run_command_line

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
BLOCKS = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", README, re.DOTALL)]
GITHUB = next(block for block in BLOCKS if isinstance(block, dict) and "jobs" in block)
GITLAB = next(block for block in BLOCKS if isinstance(block, dict) and "wsdoctor-gate" in block)


MATRIX = "${{ matrix.shard }}"


def wsdoctor_commands(steps: list[str]) -> list[list[str]]:
    """The wsdoctor command lines, split into words (the matrix expression kept whole)."""
    return [[word.replace("MATRIX", MATRIX) for word in line.replace(MATRIX, "MATRIX").split()]
            for step in steps for line in step.splitlines() if line.startswith("wsdoctor ")]


def test_github_actions_runs_a_matrix_of_shards_then_one_merge_job() -> None:
    shard, gate = GITHUB["jobs"]["shard"], GITHUB["jobs"]["gate"]
    shards = shard["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, len(shards) + 1)) and shard["strategy"]["fail-fast"] is False
    [ci] = wsdoctor_commands([step["run"] for step in shard["steps"] if "run" in step])
    assert ci[:3] == ["wsdoctor", "ci", "--shard"] and ci[3] == f"{MATRIX}/{len(shards)}"
    upload = next(step for step in shard["steps"] if step.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and upload["with"]["include-hidden-files"] is True
    assert gate["needs"] == "shard" and gate["if"] == "always()"
    download = next(step for step in gate["steps"] if step.get("uses", "").startswith("actions/download-artifact"))
    [merge] = wsdoctor_commands([step["run"] for step in gate["steps"] if "run" in step])
    assert merge[:3] == ["wsdoctor", "merge", download["with"]["path"]]


def test_gitlab_runs_parallel_shards_then_one_merge_job() -> None:
    shards, gate = GITLAB["wsdoctor"], GITLAB["wsdoctor-gate"]
    [ci] = wsdoctor_commands(shards["script"])
    assert shards["parallel"] > 1 and ci[:4] == ["wsdoctor", "ci", "--shard", "${CI_NODE_INDEX}/${CI_NODE_TOTAL}"]
    assert gate["needs"] == ["wsdoctor"] and gate["when"] == "always"
    assert wsdoctor_commands(gate["script"])[0][:2] == ["wsdoctor", "merge"]


@pytest.mark.parametrize("command", [*wsdoctor_commands([s["run"] for job in GITHUB["jobs"].values()
                                                           for s in job["steps"] if "run" in s]),
                                     *wsdoctor_commands([*GITLAB["wsdoctor"]["script"],
                                                         *GITLAB["wsdoctor-gate"]["script"]])])
def test_every_wsdoctor_command_shown_parses(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    values = {MATRIX: "1", "${CI_NODE_INDEX}": "1", "${CI_NODE_TOTAL}": "4"}
    args = [re.sub("|".join(map(re.escape, values)), lambda m: values[m.group(0)], word) for word in command[1:]]
    assert run_command_line([*args, "--help"]) == 0  # an unknown option would be exit 2
    assert "Usage: wsdoctor" in capsys.readouterr().out
