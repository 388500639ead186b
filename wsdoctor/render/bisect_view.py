"""Terminal rendering of a bisect result."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from wsdoctor.records import BisectResult
from wsdoctor.render.markup import plain_text
from wsdoctor.text import shown_value

MAX_LEAKS_SHOWN = 8


def render_bisect(result: BisectResult, console: Console) -> None:
    console.print(f"\n[bold]{result.verdict.value}[/] {plain_text(result.victim)}", soft_wrap=True)
    console.print(f"  {plain_text(result.summary)}", highlight=False, soft_wrap=True)
    if result.polluters:
        scope = result.scope.value if result.scope else ""
        console.print(f"  polluters ({scope}): {plain_text(', '.join(result.polluters))}", highlight=False)
    if result.state_setters:
        console.print(f"  state-setters: {plain_text(', '.join(result.state_setters))}", highlight=False)
    if result.explains:
        console.print(f"  the same cause explains {len(result.explains)} more order-dependent test(s), "
                      "checked in one run", highlight=False)
    if result.cleaners:
        console.print(f"  cleaners (put the state back): {plain_text(', '.join(result.cleaners))}", highlight=False)
    if result.confidence:
        detail = f" ({result.confidence_detail})" if result.confidence_detail else ""
        console.print(f"  confidence: {result.confidence.value}{plain_text(detail)}", highlight=False)
    if result.leaked_state:
        console.print(_leak_table(result))
    for command in result.reproduce:
        console.print(f"  $ {plain_text(command)}", highlight=False, soft_wrap=True)
    if result.steps:
        console.print("  [dim]steps:[/]")
        for step in result.steps:
            console.print(f"  [dim]- {plain_text(step)}[/]", soft_wrap=True)
    console.print(f"  {result.trials} child run(s) in {result.seconds:.1f} s", highlight=False)


def _leak_table(result: BisectResult) -> Table:
    table = Table(title="leaked state, most relevant first", title_justify="left")
    for column in ("kind", "name", "before", "after", "left by"):
        table.add_column(column, overflow="fold")
    for change in result.leaked_state[:MAX_LEAKS_SHOWN]:
        table.add_row(change.kind, plain_text(change.name), plain_text(shown_value(change.before)),
                      plain_text(shown_value(change.after)), plain_text(change.by))
    return table
