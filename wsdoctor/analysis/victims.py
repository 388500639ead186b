"""Victims that share a cause: one bisect's answer, checked against the other victims in one run.

One polluter often breaks many tests (a mock left on a class attribute broke 25 of them in a
real suite). Once a bisect has found and proven the polluters of one victim, a single child
runs those polluters followed by every other victim still to explain (a file-import polluter:
its file collected, the victims run); each victim that fails there, and passed alone in the run,
shares the cause and gets the answer without a bisect of its own. Only the others are bisected.
The bisected result lists whom it explains (``explains``); each of them names it
(``explained_by``), so a report can give one insight per cause.

Pure: a plan to run, and the results read from it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from wsdoctor.analysis.bisect import culprit_commands
from wsdoctor.analysis.trials import victim_failed
from wsdoctor.analysis.verdicts import CommandStyle
from wsdoctor.planner import files_in_order, in_collection_order
from wsdoctor.records import BisectResult, Collection, Context, Plan, PlanResult, Scope, Verdict


def can_explain_others(result: BisectResult) -> bool:
    return result.verdict is Verdict.ORDER_DEPENDENT and bool(result.polluters) and result.explained_by is None


def shared_cause_plan(result: BisectResult, victims: Sequence[str], collection: Collection) -> Plan:
    """The polluters of ``result``, then ``victims`` in suite order, in one child."""
    position = {t.nodeid: i for i, t in enumerate(collection.tests)}
    ordered = tuple(sorted(victims, key=lambda nodeid: position.get(nodeid, len(position))))
    if result.scope is Scope.FILE_IMPORT:
        tests = ordered
        collect = in_collection_order(collection, [*result.polluters, *files_in_order(collection, ordered)])
    else:
        tests = (*result.polluters, *ordered)
        collect = files_in_order(collection, tests)
    return Plan(label=f"shared cause: {len(victims)} victim(s) after the polluters of {result.victim}",
                context=Context.SUITE, collect_args=collect, test_ids=tests)


def explained(result: BisectResult, run: PlanResult, victims: Sequence[str], collection: Collection,
              style: CommandStyle) -> tuple[BisectResult, list[BisectResult]]:
    """``result`` with the victims it explains, and their own results: those that failed in ``run``."""
    failed = [victim for victim in victims if victim_failed(run, victim)]
    what = "importing " + ", ".join(result.polluters) if result.scope is Scope.FILE_IMPORT \
        else ", ".join(result.polluters)
    shared = [_shared(result, run, victim, what, len(victims), collection, style) for victim in failed]
    step = (f"checked against {len(victims)} other order-dependent test(s) in one run: "
            f"{len(failed)} fail after the same polluters too")
    updated = dataclasses.replace(result, explains=tuple(failed), trials=result.trials + 1,
                                  steps=(*result.steps, step))
    return updated, shared


def _shared(result: BisectResult, run: PlanResult, victim: str, what: str, together: int,
            collection: Collection, style: CommandStyle) -> BisectResult:
    imports = result.scope is Scope.FILE_IMPORT
    return BisectResult(
        victim=victim, verdict=Verdict.ORDER_DEPENDENT,
        summary=f"{victim} fails after {what}: the cause found by bisecting {result.victim}",
        polluters=result.polluters, scope=result.scope, leaked_state=result.leaked_state,
        cleaners=result.cleaners, confidence=result.confidence,
        confidence_detail=f"failed after the polluters in one run with {together - 1} other victim(s); "
                          "passed alone in the run",
        reproduce=culprit_commands(victim, result.polluters, imports, collection, style),
        steps=(f"explained by the bisect of {result.victim}: it failed after its polluters",),
        failure=run.result_of(victim), explained_by=result.victim)
