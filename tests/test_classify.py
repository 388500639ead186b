"""Verdicts from evidence: each row is a situation wsdoctor must name correctly."""

from __future__ import annotations

import dataclasses

import pytest

from wsdoctor.analysis.classify import classify
from wsdoctor.records import Context, Observation, Outcome, Verdict

P, F, E, S = Outcome.PASSED, Outcome.FAILED, Outcome.ERROR, Outcome.SKIPPED
SUITE_HISTORY, REVERSE_HISTORY, FILE_HISTORY, ALONE_HISTORY = "h-suite", "h-reverse", "h-file", "h-alone"


def seen(run: str, outcome: Outcome) -> Observation:
    """An observation in a plan whose label decides its context and history, as the planner names them."""
    kind = run.split()[0]
    context = {"suite": Context.SUITE, "reverse": Context.SUITE, "file": Context.FILE,
               "alone": Context.ALONE}[kind]
    history = {"suite": SUITE_HISTORY, "reverse": REVERSE_HISTORY, "file": FILE_HISTORY,
               "alone": ALONE_HISTORY}[kind]
    return Observation(plan=run, context=context, outcome=outcome, history=history)


CASES = [
    ("passes everywhere", [("suite", P)], Verdict.PASS),
    ("skipped everywhere is a skip, not a pass", [("suite", S), ("alone", S)], Verdict.SKIP),
    ("xfailed everywhere is an xfail, not a pass", [("suite", Outcome.XFAILED)], Verdict.XFAIL),
    ("passed once and skipped once does not fail", [("suite", P), ("alone", S)], Verdict.PASS),
    ("fails everywhere", [("suite", F), ("file", F), ("file #2", F), ("alone", F), ("alone #2", F)],
     Verdict.FAIL),
    ("fails in the suite twice, passes alone twice",
     [("suite", F), ("suite (second look)", F), ("alone", P), ("alone #2", P)], Verdict.ORDER_DEPENDENT),
    ("setup error in the suite counts as failing",
     [("suite", E), ("suite (second look)", E), ("alone", P), ("alone #2", P)], Verdict.ORDER_DEPENDENT),
    ("fails in its own file's order only",
     [("suite", P), ("file x", F), ("file x #2", F), ("alone", P), ("alone #2", P)],
     Verdict.ORDER_DEPENDENT),
    ("failure in the suite not reproduced by the identical rerun",
     [("suite", F), ("suite (second look)", P), ("alone", P), ("alone #2", P)], Verdict.FLAKY),
    ("failing order seen only once is not blamed on order",
     [("reverse", F), ("suite", P), ("alone", P), ("alone #2", P)], Verdict.FLAKY),
    # A child that hung in another test is continued in a new one: the victim's failure there has a
    # history of its own, never repeated. It contradicts nothing the reproduced order proves.
    ("a reproduced failing order with another failure no run repeated",
     [("suite", F), ("suite (second look)", F), ("reverse", F), ("alone", P), ("alone #2", P)],
     Verdict.ORDER_DEPENDENT),
    ("passes in the suite, fails alone twice", [("suite", P), ("alone", F), ("alone #2", F)],
     Verdict.BRITTLE),
    ("fails alone only once is not brittle", [("suite", P), ("alone", F)], Verdict.FLAKY),
    ("alone runs disagree", [("suite", F), ("suite (second look)", F), ("alone", P), ("alone #2", F)],
     Verdict.FLAKY),
    ("hang wins over everything", [("suite", Outcome.HANG), ("alone", P)], Verdict.HANG),
    ("crash wins over failures", [("suite", Outcome.CRASH), ("alone", F)], Verdict.CRASH),
    ("not-run runs are no evidence", [("suite", Outcome.NOT_RUN), ("alone", P)], Verdict.PASS),
    ("a test that ran nowhere is not run, never a pass", [("suite", Outcome.NOT_RUN)], Verdict.NOT_RUN),
    ("a test no plan ran is not run", [], Verdict.NOT_RUN),
]


@pytest.mark.parametrize(("situation", "runs", "verdict"), CASES, ids=[c[0] for c in CASES])
def test_verdict(situation: str, runs: list[tuple[str, Outcome]], verdict: Verdict) -> None:
    decided, reason = classify([seen(run, outcome) for run, outcome in runs])
    assert decided is verdict, reason
    assert reason


def test_order_dependent_reason_names_the_order_and_counts() -> None:
    _, reason = classify([seen("suite", F), seen("suite (second look)", F), seen("alone", P),
                          seen("alone #2", P)])
    assert reason == "fails in the suite order (2 runs, reproduced), passes alone (2 of 2 runs)"


def test_flaky_reason_lists_the_disagreeing_runs() -> None:
    _, reason = classify([seen("suite", F), seen("suite (second look)", P)])
    assert reason == "identical runs disagree (suite: failed, suite (second look): passed)"


def test_not_run_says_why_as_the_children_said_it() -> None:
    stopped = "did not finish: pytest stopped with INTERNALERROR: ValueError: boom, raised in conftest.py:3 in hook"
    observations = [dataclasses.replace(seen("suite", Outcome.NOT_RUN), message=stopped),
                    dataclasses.replace(seen("file x", Outcome.NOT_RUN), message=stopped)]
    assert classify(observations) == (Verdict.NOT_RUN, stopped)
    assert classify([])[1] == "no run gave it an outcome"
