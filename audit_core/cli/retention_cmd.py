"""``auditround retention run [--dry-run] [--json]``: purge what rounds past their retention
no longer need (the use case: :mod:`audit_core.services.retention`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from audit_core.cli.common import STATE, console, plural, print_json

if TYPE_CHECKING:
    from audit_core.domain.retention import PurgeReport

app = typer.Typer(
    help="Retention: purge the returns of rounds closed longer than board.retention says.",
    no_args_is_help=True,
)

COLUMNS = (
    ("returns", "returns"),
    ("texts", "texts"),
    ("concerns", "concerns"),
    ("declines", "decline reasons"),
    ("findings", "findings kept back"),
    ("case_notes", "key findings"),
    ("messages", "emails"),
)


@app.command("run")
def run(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Say what would be purged; change and record nothing."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Purge the free text of the returns of every round closed (or cancelled) longer ago
    than board.retention.returns_months, and the stored content of its emails.

    Kept: the grades and themes (so collation and the year's report give the same
    figures), the briefings, the actions and their updates, who each email went to and
    when, and an audit event of each round's purge with its counts. One transaction;
    running it again purges nothing more."""
    from audit_core.services.retention import purge_expired

    with STATE.app.unit_of_work() as uow:
        report = purge_expired(uow, dry_run=dry_run)
    if as_json:
        print_json(report.to_json())
        return
    _print_report(report)


def _print_report(report: PurgeReport) -> None:
    day = f"{report.today:%A} {report.today.day} {report.today:%B %Y}"
    kept = f"returns are kept {plural(report.months, 'month')} after their round ends"
    if not report.purged:
        console.print(f"{day}: nothing to purge ({kept}).", highlight=False)
    else:
        verb = "would be purged" if report.dry_run else "purged"
        console.print(
            f"{day}: {plural(len(report.purged), 'round')} {verb} ({kept}).", highlight=False
        )
        table = Table(title="Would go" if report.dry_run else "Purged", title_justify="left")
        for column in ("round", "ended", "due from"):
            table.add_column(column)
        for _, title in COLUMNS:
            table.add_column(title, justify="right")
        for r in report.purged:
            counts = r.counts()
            table.add_row(
                r.round_id,
                f"{r.ended_on:%d/%m/%Y} ({r.status})",
                f"{r.due_from:%d/%m/%Y}",
                *(str(counts[key]) for key, _ in COLUMNS),
            )
        console.print(table)
        if report.dry_run:
            console.print("Nothing was changed (--dry-run).", highlight=False)
    for w in report.waiting[:3]:
        console.print(
            f"Round {w.round_id} ended on {w.ended_on:%d/%m/%Y}: purged from "
            f"{w.due_from:%d/%m/%Y}.",
            highlight=False,
        )
