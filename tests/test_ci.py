"""`wsdoctor ci` end to end on a scenario suite: the gate, the baseline, expiry, the outputs."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
import xmlschema
import yaml

from tests.conftest import copy_scenario, load_expected, run_wsdoctor

SCENARIO = "gate_new_victim"
SCHEMA = Path(__file__).parent / "schemas" / "junit-10.xsd"
VICTIM = "tests/test_ratelimit.py::test_61st_message_in_a_minute_is_rejected"
POLLUTER = "tests/test_admin.py::test_admin_can_raise_the_limit"


@pytest.mark.e2e
def test_the_gate_fails_on_a_new_victim_passes_once_baselined_and_fails_again_when_the_entry_expires(
        scenario) -> None:  # type: ignore[no-untyped-def]
    gate = load_expected(SCENARIO)["gate"]
    project: Path = scenario(SCENARIO)
    done = run_wsdoctor(project, "ci", "--seed", "3", "--junit", "junit.xml", "--summary", "summary.md")
    assert done.exit_code == gate["exit_code"], done.stdout + done.stderr
    assert f"fails the gate: order-dependent {VICTIM}" in done.stdout
    assert "shuffled order: seed 3 (--seed)" in done.stderr
    xmlschema.XMLSchema(str(SCHEMA)).validate(str(project / "junit.xml"))
    summary = (project / "summary.md").read_text()
    assert summary.startswith("## wsdoctor ci: the gate failed ❌") and f"`{VICTIM}`" in summary
    assert f"after `{POLLUTER}`" in summary  # the new victim was bisected
    assert "singleton-container-leak" in summary  # and its playbook matched

    accepted = run_wsdoctor(project, "baseline", "update", "--reason", "ticket 12")
    assert accepted.exit_code == 0, accepted.stderr
    baseline = yaml.safe_load((project / "wsdoctor-baseline.yaml").read_text())
    assert {(e["test"], e["verdict"]) for e in baseline["accepted"]} >= {(VICTIM, "order-dependent")}

    done = run_wsdoctor(project, "ci", "--seed", "3")
    assert done.exit_code == gate["baselined_exit_code"], done.stdout + done.stderr
    assert f"accepted by the baseline: order-dependent {VICTIM}: ticket 12" in done.stdout  # still reported
    assert "bisecting" not in done.stderr  # an accepted victim is not bisected again

    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    for entry in baseline["accepted"]:
        if entry["test"] == VICTIM:
            entry["expires"] = yesterday
    (project / "wsdoctor-baseline.yaml").write_text(yaml.safe_dump(baseline))
    done = run_wsdoctor(project, "ci", "--seed", "3")
    assert done.exit_code == gate["expired_exit_code"], done.stdout + done.stderr
    assert f"baseline entry expired: order-dependent {VICTIM}: expired {yesterday}" in done.stdout


@pytest.mark.e2e
def test_on_github_actions_findings_are_annotations_and_the_summary_goes_to_the_job(scenario) -> None:  # type: ignore[no-untyped-def]
    project: Path = scenario(SCENARIO)
    step_summary = project / "step-summary.md"
    step_summary.write_text("earlier step\n")
    done = run_wsdoctor(project, "ci", "--budget", "1", env={"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "77",
                                                             "GITHUB_RUN_ATTEMPT": "1",
                                                             "GITHUB_STEP_SUMMARY": str(step_summary)})
    assert done.exit_code == 1, done.stderr
    assert "::error file=tests/test_ratelimit.py,line=4,title=wsdoctor%3A order-dependent::" in done.stdout
    assert "(from GITHUB_RUN_ID 77/1)" in done.stderr
    text = step_summary.read_text()
    assert text.startswith("earlier step\n## wsdoctor ci: the gate failed")
    assert f"`{VICTIM}`" in text.split("Not bisected within the `--budget`")[1]  # no time was left for it
    plain = run_wsdoctor(project, "ci", "--budget", "2runs")
    assert "::error" not in plain.stdout  # elsewhere nothing extra is printed
    newest = max(project.glob(".wsdoctor/runs/*/ci.json"), key=lambda path: path.stat().st_mtime)
    assert json.loads(newest.read_text())["not_bisected"] == [VICTIM]  # 2 child runs cannot bisect it


@pytest.mark.parametrize(("args", "expected"), [
    (["ci", "--shard", "3/2"], "--shard '3/2': give K/N with 1 <= K <= N"),
    (["ci", "--baseline", "missing.yaml"], "baseline missing.yaml does not exist"),
    (["ci", "--junit", "no/dir/junit.xml"], "--junit no/dir/junit.xml: the directory no/dir does not exist"),
    (["ci", "--fail-on", "wobbly"], "--fail-on 'wobbly': use verdicts out of"),
    (["ci", "--budget", "5 parsecs"], "--budget '5 parsecs': give seconds ('300', '300s', '5m'), child runs"),
])
def test_ci_bad_input_is_one_line_exit_2_and_runs_nothing(scenario, args: list[str], expected: str,
                                                          wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    project: Path = scenario(SCENARIO)
    done = wsdoctor_in_process(project, *args)
    assert done.exit_code == 2 and expected in done.stderr, done.stderr
    assert list(project.glob(".wsdoctor/runs/*")) == []


@pytest.mark.parametrize(("given", "config", "seconds", "runs"), [
    ([], "", 600.0, None),
    ([], "budget = 120\n", 120.0, None),
    (["--budget", "10m,40runs"], "budget = 120\n", 600.0, 40),  # the flag wins, in bisect's syntax
    (["--budget", "40runs"], "", None, 40),  # runs only: each bisect keeps its own time limit, as bisect does
])
def test_ci_budget_takes_bisects_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wsdoctor_in_process,
                                        given: list[str], config: str, seconds: float | None,
                                        runs: int | None) -> None:  # type: ignore[no-untyped-def]
    import wsdoctor.commands.ci as ci

    (tmp_path / "pyproject.toml").write_text("[tool.wsdoctor]\n" + config)
    asked = []
    monkeypatch.setattr(ci, "ci_command", lambda request, consoles: asked.append(request) or 0)
    done = wsdoctor_in_process(tmp_path, "ci", *given)
    assert done.exit_code == 0, done.stderr
    assert (asked[0].budget, asked[0].budget_runs) == (seconds, runs)


@pytest.mark.parametrize("given", ["artifact/run.json", "{tmp}/artifact"])
def test_a_gates_record_downloaded_as_an_artifact_is_reported_where_it_lies(
        tmp_path: Path, given: str, wsdoctor_in_process) -> None:  # type: ignore[no-untyped-def]
    from tests.test_gate import NEW_VICTIM
    from wsdoctor.codec import dump_json

    (tmp_path / "artifact").mkdir()  # what a CI job uploaded: run.json and ci.json, no .wsdoctor/runs around them
    (tmp_path / "artifact" / "run.json").write_text(dump_json(NEW_VICTIM))
    done = wsdoctor_in_process(tmp_path, "report", given.format(tmp=tmp_path))
    assert done.exit_code == 0, done.stderr
    assert f"wsdoctor report of run {NEW_VICTIM.id}" in done.stdout and VICTIM in done.stdout


def ci_record_dir(project: Path) -> Path:
    [run_json] = [p for p in project.glob(".wsdoctor/runs/*/run.json") if (p.parent / "ci.json").exists()]
    return run_json.parent


@pytest.mark.e2e
def test_sharded_then_merged_records_hold_every_test_once_and_say_what_the_split_did(
        scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = load_expected(SCENARIO)["gate"]["files"]
    whole: Path = scenario(SCENARIO)
    assert run_wsdoctor(whole, "ci", "--seed", "3").exit_code == 1
    unsharded = json.loads((ci_record_dir(whole) / "run.json").read_text())
    expected = {v["nodeid"]: v["verdict"] for v in unsharded["verdicts"]}
    assert expected[VICTIM] == "order-dependent"
    for count in (2, 4):
        shard_dirs = []
        for index in range(1, count + 1):
            project = copy_scenario(SCENARIO, tmp_path / f"n{count}-{index}")
            done = run_wsdoctor(project, "ci", "--seed", "3", "--shard", f"{index}/{count}")
            assert done.exit_code in (0, 1), done.stderr
            assert f"`wsdoctor ci --seed 3 --shard {index}/{count}` repeats it" in done.stderr
            shard_dirs.append(str(ci_record_dir(project)))
        merged_at = tmp_path / f"merge-{count}"
        merged_at.mkdir()
        done = run_wsdoctor(merged_at, "merge", *shard_dirs, "--previous", str(ci_record_dir(whole)),
                            "--junit", "junit.xml")
        assert done.exit_code == 1, done.stdout + done.stderr  # the polluter's leaked state fails it either way
        xmlschema.XMLSchema(str(SCHEMA)).validate(str(merged_at / "junit.xml"))
        merged = json.loads(next(merged_at.glob(".wsdoctor/runs/*/run.json")).read_text())
        ids = [v["nodeid"] for v in merged["verdicts"]]
        assert sorted(ids) == sorted(expected) and len(ids) == len(set(ids))  # every test exactly once
        assert {t["path"] for t in merged["collection"]["tests"]} == set(files)
        verdicts = {v["nodeid"]: v["verdict"] for v in merged["verdicts"]}
        assert {k: v for k, v in verdicts.items() if k != VICTIM} == {k: v for k, v in expected.items() if k != VICTIM}
        output = " ".join(done.stdout.split())
        if count == 2:  # the polluter's file and the victim's share shard 2, without test_messages.py between
            assert verdicts[VICTIM] == "order-dependent"
            assert f"note: the split made a new order: in shard 2/2, {VICTIM} runs after its polluter(s) {POLLUTER}" \
                   in output
            assert any(b["victim"] == VICTIM and b["polluters"] == [POLLUTER] for b in merged["bisects"])
        else:  # test_admin.py and test_ratelimit.py land in different shards
            assert verdicts[VICTIM] == "pass"
            assert f"note: the split separated {VICTIM} (shard 4/4) from its polluter(s) {POLLUTER} (shard 3/4)" \
                   in output


@pytest.mark.e2e
def test_a_gate_on_an_xdist_suite_runs_its_orders_one_after_the_other_with_the_projects_workers(
        scenario) -> None:  # type: ignore[no-untyped-def]
    project: Path = scenario("xdist_addopts")
    done = run_wsdoctor(project, "ci", "--seed", "4", "--junit", "junit.xml")
    assert done.exit_code == 1, done.stderr  # the victim of gw0's order, and the polluter's leak
    record = json.loads(next(p for p in project.glob(".wsdoctor/runs/*/run.json")
                             if (p.parent / "ci.json").exists()).read_text())
    labels = [run["plan"]["label"] for run in record["plan_results"]]
    assert {"suite gw0", "suite gw1", "shuffle 4 gw0", "shuffle 4 gw1"} <= set(labels)
    spans = {run["plan"]["label"]: run["children"][0] for run in record["plan_results"]}
    children = sorted(p.name for p in (ci_record_dir(project) / "children").iterdir())
    assert children[:2] == ["0001-suite", "0002-shuffle-4"]  # started together, the shuffled one
    assert "0003-shuffle-4" in children  # then stopped, and started again once the suite order ran
    assert spans["shuffle 4 gw0"]["artifacts"].endswith("0003-shuffle-4")
    assert "order-dependent tests/test_c_stats.py::test_nobody_online_at_start" in done.stdout
    xmlschema.XMLSchema(str(SCHEMA)).validate(str(project / "junit.xml"))
    runs = 2 * len(record["collection"]["tests"])  # the CI log's progress has a total, though the controller
    assert f"and a shuffled order: {runs}/{runs} test run(s) done" in done.stderr  # collects nothing


@pytest.mark.e2e
def test_orders_wsdoctor_gives_each_child_run_in_one_process_and_the_output_says_why(
        scenario) -> None:  # type: ignore[no-untyped-def]
    project: Path = scenario("xdist_addopts")
    done = run_wsdoctor(project, "run", "--reverse", "--json", "out.json")
    said = " ".join(done.stderr.split())
    assert "xdist: off (-n 0) for every order of this run, although the project runs 2 worker(s)" in said
    assert done.exit_code == 0, done.stdout  # serially, the reset runs between the polluter and its victim
