"""Verdicts from each test's observations in all plans.

A verdict must survive a second look: ``order-dependent`` needs a failing order
that failed again when repeated (a failure in an order never repeated, as after a
child continued past a hang, proves nothing either way) and the test to pass alone
every time;
``brittle`` needs the test to fail alone every time and pass in some order.
Outcomes that disagree between identical runs make a test ``flaky``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from wsdoctor.analysis.observations import is_ordered, order_label
from wsdoctor.records import Observation, Outcome, RunVerdict, Verdict

Decision = tuple[RunVerdict, str]


def classify(observations: Sequence[Observation]) -> Decision:
    kept, set_aside = without_disturbed(observations)
    verdict, reason = _decide(kept)
    if set_aside:
        reason += (f"; set aside: {len(set_aside)} failure(s) seen while other children ran, which did not come "
                   "back when run again alone in the machine")
    return verdict, reason


def without_disturbed(observations: Sequence[Observation]) -> tuple[list[Observation], list[Observation]]:
    """A run that went wrong while other children ran counts only if the same run (same history) went
    wrong again alone in the machine; when it passed there, the concurrent failure is set aside."""
    passed_alone = {o.history for o in observations if not o.concurrent and o.outcome.is_good}
    wrong_alone = {o.history for o in observations if not o.concurrent and o.outcome.went_wrong}
    aside = [o for o in observations if o.concurrent and o.outcome.went_wrong
             and o.history in passed_alone and o.history not in wrong_alone]
    aside_ids = {id(o) for o in aside}
    return [o for o in observations if id(o) not in aside_ids], aside


def _decide(observations: Sequence[Observation]) -> Decision:
    seen = [s for s in observations if s.outcome is not Outcome.NOT_RUN]
    outcomes = [s.outcome for s in seen]
    if not seen:
        return Verdict.NOT_RUN, _why_not_run(observations)
    if Outcome.HANG in outcomes:
        return Verdict.HANG, _where(seen, Outcome.HANG, "exceeded the timeout in")
    if Outcome.CRASH in outcomes:
        return Verdict.CRASH, _where(seen, Outcome.CRASH, "killed its process in")
    if all(o.is_good for o in outcomes):
        return _good(outcomes)
    mixed = _disagreeing_history(seen)
    if mixed is not None:
        return Verdict.FLAKY, f"identical runs disagree ({mixed})"
    if all(o.is_bad for o in outcomes):
        return Verdict.FAIL, f"failed in all {len(outcomes)} runs"
    return _by_context(seen)


def _why_not_run(observations: Sequence[Observation]) -> str:
    """A test that did not run is never a pass: say why, as its children said it."""
    reasons = list(dict.fromkeys(o.message for o in observations if o.message))
    if not reasons:
        return "no run gave it an outcome"
    return "; ".join(reasons[:3]) + (f" (and {len(reasons) - 3} more)" if len(reasons) > 3 else "")


def _good(outcomes: Sequence[Outcome]) -> Decision:
    """Passed, skipped or xfailed everywhere: a skip or an xfail in every run is counted as such."""
    counts = {outcome: outcomes.count(outcome) for outcome in dict.fromkeys(outcomes)}
    if set(counts) == {Outcome.SKIPPED}:
        return Verdict.SKIP, "skipped in every run"
    if set(counts) == {Outcome.XFAILED}:
        return Verdict.XFAIL, "failed as expected (xfail) in every run"
    if set(counts) == {Outcome.PASSED}:
        return Verdict.PASS, "passed in every run"
    return Verdict.PASS, "did not fail in any run (" + ", ".join(f"{o.value} ×{n}" for o, n in counts.items()) + ")"


def _by_context(seen: Sequence[Observation]) -> Decision:
    alone = [s.outcome for s in seen if not is_ordered(s.context)]
    ordered = [s for s in seen if is_ordered(s.context)]
    bad_orders = _groups(s for s in ordered if s.outcome.is_bad)
    if alone and all(o.is_good for o in alone) and bad_orders:
        reproduced = [group for group in bad_orders.values() if len(group) >= 2]
        if reproduced:  # identical runs that disagree were told apart above: these only failed
            failed = sum(len(group) for group in reproduced)
            orders = sorted({_order_name(s.plan) for g in reproduced for s in g})
            once = len(bad_orders) - len(reproduced)
            return (Verdict.ORDER_DEPENDENT,
                    f"fails in {_join(orders)} ({failed} runs, reproduced), "
                    f"passes alone ({len(alone)} of {len(alone)} runs)"
                    + (f"; also failed in {once} order(s) not run again" if once else ""))
        return Verdict.FLAKY, "failed in an order that did not fail again when repeated"
    good_orders = [s.plan for s in ordered if s.outcome.is_good]
    if len(alone) >= 2 and all(o.is_bad for o in alone) and good_orders:
        orders = sorted({_order_name(run) for run in good_orders})
        return (Verdict.BRITTLE,
                f"passes in {_join(orders)}, fails alone ({len(alone)} of {len(alone)} runs)")
    return Verdict.FLAKY, "outcomes disagree and no order explains them"


def _groups(observations: Iterable[Observation]) -> dict[str, list[Observation]]:
    groups: dict[str, list[Observation]] = {}
    for s in observations:
        groups.setdefault(s.history, []).append(s)
    return groups


def _disagreeing_history(seen: Sequence[Observation]) -> str | None:
    for group in _groups(seen).values():
        outcomes = {s.outcome for s in group}
        if any(o.is_good for o in outcomes) and any(o.is_bad for o in outcomes):
            return ", ".join(f"{s.plan}: {s.outcome.value}" for s in group)
    return None


def _where(seen: Sequence[Observation], outcome: Outcome, verb: str) -> str:
    runs = [s.plan for s in seen if s.outcome is outcome]
    return f"{verb} {_join(runs)}"


def _order_name(label: str) -> str:
    """'suite (second look)' and 'suite #2' are the suite order; 'file x.py #2' is its file's."""
    name = order_label(label)
    return "the suite order" if name == "suite" else f"the {name} order"


def _join(items: Sequence[str]) -> str:
    return ", ".join(items[:4]) + (f" and {len(items) - 4} more" if len(items) > 4 else "")
