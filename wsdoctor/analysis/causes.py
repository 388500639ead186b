"""Which findings share a cause: victims of the same polluters and leaked state, failures with one signature.

A report gives one insight per cause, listing every test it explains; a CI artifact with 300,000
failures of one assertion is one insight with a count, not 300,000.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Hashable, Iterable

from wsdoctor.records import TestEvidence

# Distinct signatures kept apart; past this, failures are told apart by their error type only.
MAX_SIGNATURES = 500
MAX_KINDS = 100  # distinct error types, past MAX_SIGNATURES; the rest are one group

_VARYING = (
    (re.compile(r"0x[0-9a-fA-F]+"), "0x…"),  # addresses
    (re.compile(r"\bid='?\d+'?"), "id=…"),  # <Mock ... id='140...'>
    (re.compile(r"'[^'\n]{0,200}'|\"[^\"\n]{0,200}\""), "'…'"),  # quoted values
    (re.compile(r"\d+(?:\.\d+)?"), "N"),  # counts, ports, durations
)
_ERROR_TYPE = re.compile(r"^\s*([A-Za-z_][\w.]*(?:Error|Exception|Warning|Exit|Interrupt)|assert)\b")


def failure_signature(item: TestEvidence) -> str:
    """The error line with what varies between alike failures (numbers, addresses, values) blanked."""
    line = item.message or (item.warnings[0] if item.warnings else "")
    for pattern, replacement in _VARYING:
        line = pattern.sub(replacement, line)
    return f"{item.verdict.value}: {line.strip()[:300]}"


def error_kind(item: TestEvidence) -> str:
    found = _ERROR_TYPE.match(item.message or (item.warnings[0] if item.warnings else ""))
    return f"{item.verdict.value}: {found.group(1) if found else 'other'}"


def cause_key(item: TestEvidence) -> Hashable:
    """Victims of the same polluters that left the same state share a cause; otherwise the failure's signature."""
    if item.polluters:
        leaks = sorted({change.key for change in item.leaked})
        return ("polluted", item.scope, tuple(sorted(item.polluters)), tuple(leaks))
    return ("failure", failure_signature(item))


def fold_alike(items: Iterable[TestEvidence], limit: int = MAX_SIGNATURES) -> list[TestEvidence]:
    """One evidence per cause, in first-seen order, the other tests' ids folded into it.

    Memory stays bounded whatever the input holds: one evidence per signature, and past
    ``limit`` signatures failures are grouped by their error type, then all together.
    """
    first: dict[Hashable, TestEvidence] = {}
    others: dict[Hashable, list[str]] = {}
    for item in items:
        key = cause_key(item)
        if key not in first and len(first) >= limit:
            key = ("kind", error_kind(item))
            if key not in first and len(first) >= limit + MAX_KINDS:
                key = ("kind", "other")
        if key in first:
            others[key] += [item.nodeid, *item.others]
        else:
            first[key], others[key] = item, list(item.others)
    return [dataclasses.replace(item, others=tuple(others[key])) if others[key] else item
            for key, item in first.items()]
