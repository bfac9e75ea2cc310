"""``auditround chase``: send the reminders and escalations due today (or show them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from audit_core.cli.common import STATE, console, plural

if TYPE_CHECKING:
    from audit_core.services.chase import Chased, ChaseReport


def chase(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what is due without sending or recording anything."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Remind auditors of returns due or late; escalate late ones, one email a person a day.

    Reminders go to the auditor before the deadline, on the day and once it is late;
    escalations to the agency lead, then the business unit manager, as the cadence says.

    Safe to run again: a step is taken once per task and deadline. With the global
    --now DATE, shows (with --dry-run) what would be due on any day. Exits 3 if an email
    was refused for good, 4 if the mail server could not be reached."""
    from audit_core.cli.outbox_cmd import finish_day_run

    report, sent = (STATE.app.chase_preview(), None) if dry_run else STATE.app.chase()
    finish_day_run(
        "chase", report, sent, as_json=as_json, show=lambda: _print_report(report, dry_run=dry_run)
    )


def _print_report(report: ChaseReport, *, dry_run: bool) -> None:
    day = f"{report.today:%A} {report.today.day} {report.today:%B %Y}"
    if report.not_working:
        console.print(f"{day} is {report.not_working}: nobody is chased today.")
        return
    verb = "due" if dry_run else "taken"
    steps = len(report.reminders) + len(report.escalations)
    console.print(
        f"{day}: {plural(steps, 'chase step')} {verb} "
        f"({plural(len(report.reminders), 'reminder')}, "
        f"{plural(len(report.escalations), 'late return')} escalated)."
    )
    if report.reminders:
        console.print(_table("Reminders to auditors", report.reminders, to=False))
    if report.escalations:
        console.print(_table("Escalations (one email a person)", report.escalations, to=True))
    if report.waiting:
        console.print(
            f"{plural(len(report.waiting), 'escalation')} wait for the next working day: "
            "their recipient had today's email already."
        )


def _table(title: str, rows: list[Chased], *, to: bool) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("round", "case", "agency", "auditor", "due", "late", "step"):
        table.add_column(column)
    if to:
        table.add_column("to")
    for row in rows:
        cells = [
            row.round_id,
            escape(row.case_ref),
            escape(row.agency_name),
            escape(row.auditor_name),
            f"{row.due_on:%d/%m/%Y}",
            str(row.days_late),
            row.step,
        ]
        table.add_row(*cells, *([escape(row.to_name)] if to else []))
    return table
