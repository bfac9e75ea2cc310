"""``auditround actions resend ID`` and ``auditround actions follow-up``: an owner's link
sent again, and the working day's follow-up of the action plan (added to the ``actions``
group of :mod:`audit_core.cli.actions_cmd`).

The use cases are :func:`audit_core.services.action_links.send_link` and
:func:`audit_core.services.action_follow_up.follow_up`, each run in one transaction and
followed by a dispatch of the outbox (:meth:`audit_core.bootstrap.App.change_then_send`).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from audit_core.cli.common import STATE, console, plural, print_json

if TYPE_CHECKING:
    from audit_core.services.action_follow_up import FollowedUp, FollowUpReport


def resend(
    action_id: int = typer.Argument(..., metavar="ID", help="The action's number."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Email an action's owner a new link to record progress; the old one stops working.

    For a link lost, or forwarded by mistake. Exits 3 or 4 like 'outbox dispatch' if the
    email did not go."""
    from audit_core.cli.outbox_cmd import exit_if_undelivered, print_dispatch
    from audit_core.services.action_links import send_link

    _, sent = STATE.app.change_then_send(lambda uow: send_link(uow, action_id))
    if as_json:
        print_json({"action": action_id, "dispatch": dataclasses.asdict(sent)})
    else:
        console.print(
            f"A new link to action {action_id} is on its way to its owner; the old link no "
            "longer works."
        )
        print_dispatch(sent, as_json=False)
    exit_if_undelivered(sent)


def follow_up(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what is due without sending or recording anything."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Remind owners of actions due or late; escalate late ones; the weekly digest.

    Reminders go to owners before the due date, on the day and once it is late; an
    escalation to the lead of the owner's agency; one email a person a day. On the digest's
    weekday the business unit and the QA subgroup get the action plan's digest. The RAG of
    every open action is brought up to date.

    Safe to run again: each step is taken once per action and due date, the digest once a
    week. With the global --now DATE, shows (with --dry-run) what would be due on any day.
    Exits 3 if an email was refused for good, 4 if the mail server could not be reached."""
    from audit_core.cli.outbox_cmd import finish_day_run

    app = STATE.app
    report, sent = (app.follow_up_preview(), None) if dry_run else app.follow_up()
    finish_day_run(
        "follow_up",
        report,
        sent,
        as_json=as_json,
        show=lambda: _print_report(report, dry_run=dry_run),
    )


def _print_report(report: FollowUpReport, *, dry_run: bool) -> None:
    day = f"{report.today:%A} {report.today.day} {report.today:%B %Y}"
    if not dry_run:
        console.print(f"RAG brought up to date: {plural(report.rag_changed, 'action')} changed.")
    if report.not_working:
        console.print(f"{day} is {report.not_working}: no action is followed up today.")
        return
    verb = "due" if dry_run else "taken"
    console.print(
        f"{day}: {plural(len(report.taken), 'follow-up step')} {verb} "
        f"({plural(len(report.reminders), 'reminder')}, "
        f"{plural(len(report.escalations), 'escalation')})."
    )
    if report.reminders:
        console.print(_table("Reminders to owners (one email each)", report.reminders))
    if report.escalations:
        console.print(_table("Escalations to agency leads (one email each)", report.escalations))
    if report.waiting:
        console.print(
            f"{plural(len(report.waiting), 'step')} wait for the next working day: their "
            "person had today's email already."
        )
    digest = report.digest
    if digest is not None:
        said = "queued" if report.digest_sent else ("due" if dry_run else "not needed")
        console.print(
            f"The action plan's digest for {digest.day:%d/%m/%Y} is {said}: "
            f"{digest.open_count} open, {len(digest.overdue)} overdue, "
            f"{len(digest.due_soon)} due within a month; since the last one "
            f"{len(digest.new)} new, {len(digest.updated)} updated, {len(digest.closed)} closed."
        )


def _table(title: str, rows: list[FollowedUp]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("action", "theme", "owner", "agency", "due", "late", "status", "step", "to"):
        table.add_column(column, justify="right" if column in ("action", "late") else "left")
    for row in rows:
        table.add_row(
            str(row.action_id),
            escape(row.theme_name),
            escape(row.owner_name),
            escape(row.agency_name or "-"),
            f"{row.due_on:%d/%m/%Y}",
            str(row.days_late),
            row.status.replace("_", " "),
            row.step,
            escape(row.to_name),
        )
    return table
