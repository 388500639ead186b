"""The baseline file: findings a project has accepted, committed beside its code.

`wsdoctor baseline update` writes it (at the project root, `wsdoctor-baseline.yaml`, unless
`--baseline FILE` or `[tool.wsdoctor] baseline` says elsewhere); `wsdoctor ci` reads it. YAML,
read with safe loading; every problem is one line naming the file, the entry and the key.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wsdoctor.analysis.gate import GATE_VERDICTS, BaselineEntry
from wsdoctor.codec import read_bounded, write_atomic
from wsdoctor.exits import UsageError

BASELINE_FILE = "wsdoctor-baseline.yaml"
BASELINE_VERSION = 1
MAX_BASELINE = 64 << 20  # bytes: a baseline is read whole (YAML); --baseline /dev/zero is not one
HEADER = """\
# wsdoctor baseline: findings this project has accepted. `wsdoctor ci` reports them but does
# not fail the job on them; an entry past its `expires` date (YYYY-MM-DD) fails it again, and
# an entry that no longer occurs is reported as fixed. Written by `wsdoctor baseline update`;
# give every entry a real reason.
"""
_ENTRY_KEYS = {"test", "verdict", "reason", "state", "expires", "polluters", "run"}


def read_baseline(path: Path, must_exist: bool = False) -> tuple[BaselineEntry, ...]:
    """The accepted findings; none when there is no file (unless it was named explicitly)."""
    if not path.exists():
        if must_exist:
            raise UsageError(f"baseline {path} does not exist; `wsdoctor baseline update` writes one")
        return ()
    import yaml  # here: without a baseline, `wsdoctor ci` starts its children without importing it

    try:
        document = yaml.safe_load(read_bounded(path, MAX_BASELINE))
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as error:
        raise UsageError(f"cannot read baseline {path}: {_first_line(error)}") from None
    if document is None:
        return ()
    if not isinstance(document, dict) or not isinstance(document.get("accepted", []), list):
        raise UsageError(f"baseline {path}: expected a mapping with an `accepted` list")
    if document.get("version", BASELINE_VERSION) != BASELINE_VERSION:
        raise UsageError(f"baseline {path}: version {document.get('version')!r}, this wsdoctor reads "
                         f"{BASELINE_VERSION}")
    return tuple(_entry(path, number, raw) for number, raw in enumerate(document.get("accepted") or [], 1))


def _entry(path: Path, number: int, raw: Any) -> BaselineEntry:
    where = f"baseline {path}, entry {number}"
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: expected a mapping with test, verdict and reason")
    unknown = sorted(set(raw) - _ENTRY_KEYS)
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r} (keys: {', '.join(sorted(_ENTRY_KEYS))})")
    for key in ("test", "verdict", "reason"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise UsageError(f"{where}: {key} must be a non-empty string")
    if raw["verdict"] not in GATE_VERDICTS:
        raise UsageError(f"{where}: verdict {raw['verdict']!r} is not one of {', '.join(GATE_VERDICTS)}")
    polluters = raw.get("polluters", [])
    if not isinstance(polluters, list) or not all(isinstance(p, str) for p in polluters):
        raise UsageError(f"{where}: polluters must be a list of node ids")
    return BaselineEntry(test=raw["test"], verdict=raw["verdict"], reason=raw["reason"].strip(),
                         state=str(raw.get("state") or ""), expires=_date(where, raw.get("expires")),
                         polluters=tuple(polluters), run=str(raw.get("run") or ""))


def _date(where: str, value: Any) -> datetime.date | None:
    if value is None or (isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise UsageError(f"{where}: expires must be a date, YYYY-MM-DD, not {value!r}")


def parse_date(text: str, option: str) -> datetime.date:
    """A date from the command line (YYYY-MM-DD)."""
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} {text!r}: give a date as YYYY-MM-DD") from None


def write_baseline(path: Path, entries: Sequence[BaselineEntry]) -> None:
    import yaml

    class EntryDumper(yaml.SafeDumper):
        """Every value written out where it belongs: entries that share a date (one --expires) must
        not share it through a YAML alias, or editing one entry's date would change the other's."""

        def ignore_aliases(self, data: Any) -> bool:
            return True

    accepted = [_raw(entry) for entry in entries]
    body = yaml.dump({"version": BASELINE_VERSION, "accepted": accepted}, Dumper=EntryDumper, sort_keys=False,
                     allow_unicode=True, width=120)
    write_atomic(path, HEADER + body)


def _raw(entry: BaselineEntry) -> dict[str, Any]:
    raw: dict[str, Any] = {"test": entry.test, "verdict": entry.verdict}
    if entry.state:
        raw["state"] = entry.state
    raw["reason"] = entry.reason
    if entry.expires is not None:
        raw["expires"] = entry.expires
    if entry.polluters:
        raw["polluters"] = list(entry.polluters)
    if entry.run:
        raw["run"] = entry.run
    return raw


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
