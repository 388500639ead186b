"""`wsdoctor fix` on the terminal: the proven patch on standard output (as `git apply` takes it), the
evidence of its proof and the candidates dropped, with why, on standard error."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from wsdoctor.records import FixResult
from wsdoctor.render.markup import plain_text


def render_fix(results: Sequence[FixResult], out: Console, err: Console, every: bool, applied: bool) -> None:
    for result in results:
        _summary(result, err, applied)
        answer = result.proven
        shown = [c for c in result.candidates if c.proven] if every else [answer] if answer else []
        for number, candidate in enumerate(shown, 1):
            if every and len(shown) > 1:
                out.file.write(f"# candidate {number} of {len(shown)} for {result.victim}: {candidate.title}\n")
            out.file.write(candidate.diff)
    out.file.flush()


def _summary(result: FixResult, err: Console, applied: bool) -> None:
    def say(text: str) -> None:
        err.print(plain_text(text), highlight=False, soft_wrap=True)

    proven = result.proven
    state = f"proven ({proven.source.value})" if proven is not None else "no proven patch"
    err.print(f"\n[bold]fix[/] {plain_text(result.victim)}: {state}", soft_wrap=True)
    if proven is not None:
        say(f"  {proven.title}")
        say(f"  changes {', '.join(proven.files)}; proof in a copy of the project"
            + (f" (Python {result.python})" if result.python else "") + ":")
        for step in proven.steps:
            say(f"    ✓ {step.name}: {step.detail}")
    else:
        say(f"  {result.reason}")
    others = [c for c in result.candidates if c.proven and c is not proven]
    if others:
        say("  also proven:")
        for candidate in others:
            why = "" if candidate.whole_order else " (the failing order still fails there, for another cause)"
            say(f"    - {candidate.source.value}: {candidate.title}{why}")
    dropped = [c for c in result.candidates if c.tried and not c.proven]
    if dropped:
        say("  dropped:")
        for candidate in dropped:
            say(f"    - {candidate.source.value}: {candidate.title}: {candidate.dropped}")
    untried = [c for c in result.candidates if not c.tried]
    if untried:
        say(f"  not tried, an earlier one was proven (--all tries every one): {len(untried)} candidate(s)")
    if proven is not None and not applied:
        say("  the patch is on standard output; `wsdoctor fix --apply` writes it into the project")
    say(f"  {result.runs} child run(s) in {result.seconds:.1f} s")
