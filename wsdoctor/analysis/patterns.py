"""Playbook regexes, matched with a bound: a user's pattern can never make `report` spin.

Python's `re` backtracks without limit: ``(a+)+b`` against ``"a" * 40 + "!"`` runs for hours.
The `regex` library speaks the same syntax (lookarounds included, which the playbooks use and a
linear-time engine such as RE2 lacks) and takes a time limit per match; a pattern that overruns
it once is not tried again in the same report, and the report says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

MATCH_SECONDS = 0.25  # per search of one text: playbook patterns take microseconds


@dataclass
class BoundedMatcher:
    seconds: float = MATCH_SECONDS
    overran: dict[str, str] = field(default_factory=dict)  # pattern -> what it was matched for
    _compiled: dict[str, Any] = field(default_factory=dict)

    def search(self, pattern: str, texts: Iterable[str], owner: str = "", skip_empty: bool = True) -> Any:
        """The first match of ``pattern`` in ``texts`` (re.MULTILINE), or None; ``owner``: whose pattern."""
        if pattern in self.overran:
            return None
        compiled = self._compiled.get(pattern)
        if compiled is None:
            import regex  # only once a pattern is matched: a clean run never needs it

            compiled = self._compiled[pattern] = regex.compile(pattern, regex.MULTILINE | regex.VERSION0)
        for text in texts:
            if skip_empty and not text:
                continue
            try:
                found = compiled.search(text, timeout=self.seconds)
            except TimeoutError:
                self.overran[pattern] = owner
                return None
            if found is not None:
                return found
        return None
