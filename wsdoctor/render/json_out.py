"""The --json document of `wsdoctor run`: documented in README, read by other tools."""

from __future__ import annotations

from collections import Counter
from typing import Any

from wsdoctor.analysis.audit import ranked
from wsdoctor.records import RUN_VERDICTS, BisectResult, RunRecord, StateChange, Verdict

SCHEMA_VERSION = 1


def run_document(record: RunRecord, exit_code: int) -> dict[str, Any]:
    counts = Counter(v.verdict for v in record.verdicts)
    return {
        "schema": SCHEMA_VERSION,
        "wsdoctor": record.wsdoctor_version,
        "run_id": record.id,
        "status": record.status,
        "exit_code": exit_code,
        "summary": {v.value: counts[v] for v in RUN_VERDICTS},
        "tests": [
            {"nodeid": v.nodeid, "verdict": v.verdict.value, "reason": v.reason,
             "detail": v.detail, "reproduce": list(v.reproduce),
             "runs": [{"run": o.plan, "context": o.context.value, "outcome": o.outcome.value,
                       "message": o.message} for o in v.observations]}
            for v in record.verdicts],
        "audit": [{**change_document(r.change), "risk": r.risk.value} for r in ranked(record.audit())],
        "bisects": [bisect_document(b) for b in record.bisects],
        "session": session_document(record),
    }


def session_document(record: RunRecord) -> dict[str, Any]:
    """Whether every child's process exited after its session; if not, the threads that kept one alive."""
    lingering = record.lingering()
    threads = list(dict.fromkeys(thread for _, child in lingering for thread in child.threads_alive))
    return {"exits": not lingering, "threads_alive": [t.name for t in threads],
            "started_by": list(dict.fromkeys(t.started_by for t in threads if t.started_by)),
            "runs": list(dict.fromkeys(label for label, _ in lingering))}


def change_document(change: StateChange) -> dict[str, object]:
    return {"kind": change.kind, "name": change.name, "before": change.before, "after": change.after,
            "by": change.by}


def unfinished_bisect_document(victim: str) -> dict[str, object]:
    """The --json of a bisect that did not finish (interrupted, or wsdoctor's internal error): every key,
    none with a finding."""
    return {**{key: None for key in bisect_document(BisectResult(victim, Verdict.FLAKY, ""))},
            "victim": victim, "polluters": [], "state_setters": [], "leaked_state": [], "cleaners": [],
            "reproduce": [], "steps": []}


def bisect_document(result: BisectResult) -> dict[str, object]:
    """The documented --json schema of `wsdoctor bisect`."""
    return {
        "victim": result.victim, "verdict": result.verdict, "summary": result.summary,
        "polluters": list(result.polluters), "scope": result.scope,
        "state_setters": list(result.state_setters),
        "leaked_state": [change_document(c) for c in result.leaked_state],
        "cleaners": list(result.cleaners), "confidence": result.confidence,
        "confidence_detail": result.confidence_detail, "runs": result.trials,
        "seconds": result.seconds, "reproduce": list(result.reproduce), "steps": list(result.steps),
        "explains": list(result.explains), "explained_by": result.explained_by}

