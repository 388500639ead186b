"""Terminal rendering of a bisect result."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from wsdoctor.records import BisectResult
from wsdoctor.text import shown_value

MAX_LEAKS_SHOWN = 8


def render_bisect(result: BisectResult, console: Console) -> None:
    console.print(f"\n[bold]{result.verdict.value}[/] {escape(result.victim)}", soft_wrap=True)
    console.print(f"  {escape(result.summary)}", highlight=False, soft_wrap=True)
    if result.polluters:
        scope = result.scope.value if result.scope else ""
        console.print(f"  polluters ({scope}): {escape(', '.join(result.polluters))}", highlight=False)
    if result.state_setters:
        console.print(f"  state-setters: {escape(', '.join(result.state_setters))}", highlight=False)
    if result.cleaners:
        console.print(f"  cleaners in the suite order: {escape(', '.join(result.cleaners))}", highlight=False)
    if result.confidence:
        detail = f" ({result.confidence_detail})" if result.confidence_detail else ""
        console.print(f"  confidence: {result.confidence.value}{escape(detail)}", highlight=False)
    if result.leaked_state:
        console.print(_leak_table(result))
    for command in result.reproduce:
        console.print(f"  $ {escape(command)}", highlight=False, soft_wrap=True)
    if result.steps:
        console.print("  [dim]steps:[/]")
        for step in result.steps:
            console.print(f"  [dim]- {escape(step)}[/]", soft_wrap=True)
    console.print(f"  {result.trials} child run(s) in {result.seconds:.1f} s", highlight=False)


def _leak_table(result: BisectResult) -> Table:
    table = Table(title="leaked state, most relevant first", title_justify="left")
    for column in ("kind", "name", "before", "after", "left by"):
        table.add_column(column, overflow="fold")
    for change in result.leaked_state[:MAX_LEAKS_SHOWN]:
        table.add_row(change.kind, escape(change.name), escape(shown_value(change.before)),
                      escape(shown_value(change.after)), escape(change.by))
    return table
