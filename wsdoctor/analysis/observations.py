"""Each test's observations across the plans: what it did, in which plan, after what history."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Container, Sequence

from wsdoctor.records import Context, Observation, Outcome, PlanResult


def histories(result: PlanResult) -> dict[str, str]:
    """Each test's history key, from what its child actually started before it.

    Hashed incrementally: a prefix hash per test would cost the square of the suite size.
    """
    keys: dict[str, str] = {}
    for child in result.children:
        _add_histories(keys, result, child.started)
    if any(nodeid not in keys for nodeid in result.plan.test_ids):  # the plan's order stands in for
        # the tests no child started
        _add_histories(keys, result, result.plan.test_ids)
    return keys


def _add_histories(keys: dict[str, str], result: PlanResult, started: Sequence[str]) -> None:
    # surrogateescape: a node id of a file whose name is not UTF-8 holds the bytes pytest could not decode
    digest = hashlib.sha1("\0".join([*result.plan.collect_args, "|"]).encode("utf-8", "surrogateescape"))
    for nodeid in started:
        digest.update(("\0" + nodeid).encode("utf-8", "surrogateescape"))
        keys.setdefault(nodeid, digest.hexdigest()[:12])


def observations_in(result: PlanResult, concurrent: Container[str] = ()) -> dict[str, Observation]:
    """Each test of one plan, with the history of the child that actually ran it and whether other
    children ran at the same time (a test that did not run is observed too: its message says why)."""
    keys = histories(result)
    plan = result.plan
    beside_others = {nodeid for child in result.children if child.artifacts in concurrent for nodeid in child.started}
    return {test.nodeid: Observation(plan=plan.label, context=plan.context, outcome=test.outcome,
                                     message=test.message, history=keys.get(test.nodeid, test.nodeid),
                                     concurrent=test.nodeid in beside_others)
            for test in result.results}


def observations_by_test(results: Sequence[PlanResult],
                         concurrent: Container[str] = ()) -> dict[str, list[Observation]]:
    by_test: dict[str, list[Observation]] = {}
    for result in results:
        for nodeid, observation in observations_in(result, concurrent).items():
            by_test.setdefault(nodeid, []).append(observation)
    return by_test


def outcomes_by_test(results: Sequence[PlanResult]) -> dict[str, list[tuple[Context, Outcome]]]:
    """What each test did in each plan, in the plan's context; cheaper than its observations."""
    by_test: dict[str, list[tuple[Context, Outcome]]] = {}
    for result in results:
        context = result.plan.context
        for test in result.results:
            if test.outcome is not Outcome.NOT_RUN:
                by_test.setdefault(test.nodeid, []).append((context, test.outcome))
    return by_test


def is_ordered(context: Context) -> bool:
    return context is not Context.ALONE


def summarize(observations: Sequence[Observation]) -> str:
    """'suite failed ×2 · alone passed ×2': outcome per plan, plans of a kind folded together."""
    counts = Counter((plan_kind(o.plan), o.outcome.value) for o in observations)
    return " · ".join(f"{kind} {outcome}" + (f" ×{n}" if n > 1 else "")
                      for (kind, outcome), n in counts.items())


def plan_kind(label: str) -> str:
    """'alone x' and 'file x' are kinds; 'suite #2' and 'suite (second look)' are the suite's."""
    for kind in ("alone", "file"):
        if label.startswith(kind + " "):
            return kind
    return order_label(label)


def order_label(label: str) -> str:
    """The order a plan ran in: its label without a repetition's number or '(second look)'."""
    return label.split(" #")[0].removesuffix(" (second look)")
