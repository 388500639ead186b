"""The --json document of `wsdoctor run`: documented in README, read by other tools."""

from __future__ import annotations

from collections import Counter
from typing import Any

from wsdoctor.records import RunRecord, Verdict

SCHEMA_VERSION = 1


def run_document(record: RunRecord, exit_code: int) -> dict[str, Any]:
    counts = Counter(v.verdict for v in record.verdicts)
    return {
        "schema": SCHEMA_VERSION,
        "wsdoctor": record.wsdoctor_version,
        "run_id": record.id,
        "status": record.status,
        "exit_code": exit_code,
        "summary": {v.value: counts[v] for v in Verdict},
        "tests": [
            {"nodeid": v.nodeid, "verdict": v.verdict.value, "reason": v.reason,
             "detail": v.detail, "reproduce": list(v.reproduce),
             "runs": [{"run": o.run, "context": o.context.value, "outcome": o.outcome.value,
                       "message": o.message} for o in v.observations]}
            for v in record.verdicts],
    }
