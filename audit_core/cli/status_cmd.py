"""``auditround status``: the figures an operator watches, in one place, with an exit code
a monitor can act on (0: all is well; 1: something needs attention, said on stderr)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from audit_core.cli.common import STATE, console, plural, print_json

if TYPE_CHECKING:
    from audit_core.services.status import Limits, Status

EXIT_ATTENTION = 1
FINISHED = ("closed", "cancelled")


def status(
    max_pending_age: int = typer.Option(
        60,
        "--max-pending-age",
        metavar="MINUTES",
        min=1,
        help="Needs attention when the oldest message waiting in the outbox is older.",
    ),
    failed_within: int = typer.Option(
        24,
        "--failed-within",
        metavar="HOURS",
        min=1,
        help="Needs attention when a message was given up on this recently.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """What to watch, read only: the outbox, the last chase and follow-up,
    the scheduler's jobs and the rounds in progress.

    Exits 1 when something needs attention, each reason on stderr:
    a message given up on within --failed-within hours, one waiting
    longer than --max-pending-age minutes, or a scheduler job more than
    15 minutes overdue. Exits 0 otherwise."""
    from audit_core.services.status import Limits, check, problems, to_json

    limits = Limits(
        max_pending_age=dt.timedelta(minutes=max_pending_age),
        failed_within=dt.timedelta(hours=failed_within),
    )
    with STATE.app.unit_of_work() as uow:
        found = check(uow)
    if as_json:
        print_json(to_json(found, limits))
    else:
        _print(found, limits, ZoneInfo(STATE.app.config().board.timezone))
    said = problems(found, limits)
    if said:
        err = Console(stderr=True)
        for sentence in said:
            err.print(f"[bold red]Needs attention:[/] {sentence}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_ATTENTION)


def _print(found: Status, limits: Limits, zone: ZoneInfo) -> None:
    def when(moment: dt.datetime | None, never: str = "never") -> str:
        if moment is None:
            return never
        return f"{moment.astimezone(zone):%a %d %b %Y %H:%M} ({_ago(found.checked_at - moment)})"

    table = Table(title=f"auditround at {found.checked_at.astimezone(zone):%a %d %b %Y %H:%M}")
    table.add_column("what")
    table.add_column("now")
    waiting = f"{found.pending} waiting, {found.due_now} due now"
    if found.oldest_pending_at is not None:
        waiting += f"; the oldest queued {when(found.oldest_pending_at)}"
    if found.next_retry_at is not None:
        waiting += f"; next retry {found.next_retry_at.astimezone(zone):%a %d %b %H:%M}"
    table.add_row("outbox", waiting)
    recent = found.recent_failures(limits.failed_within)
    failed = f"{len(found.failures)} not delivered"
    if found.failures:
        failed += f", {len(recent)} of them in the last {_span(limits.failed_within)}"
    table.add_row("failed", f"[red]{failed}[/]" if recent else failed)
    table.add_row("last sent", when(found.last_sent_at))
    table.add_row("last chase", when(found.last_chase_at, "no chase step taken yet"))
    table.add_row("last follow-up", when(found.last_follow_up_at, "no action followed up yet"))
    for job in found.jobs:
        lag = found.job_lag(job)
        late = f" [red]({_span(lag)} overdue)[/]" if lag > limits.scheduler_lag else ""
        table.add_row(f"scheduler: {job.id}", f"next {_next(job.next_run_at, zone)}{late}")
    if not found.jobs:
        table.add_row("scheduler", "no job stored here (Prefect deployments, or never started)")
    console.print(table)
    for f in recent:
        console.print(
            f"[red]Not delivered[/]: message {f.id} ({f.kind}) to {', '.join(f.recipients)}: "
            f"{escape(f.last_error or '')}",
            highlight=False,
        )
    _print_rounds(found)


def _print_rounds(found: Status) -> None:
    live = [line for line in found.rounds if line.status not in FINISHED]
    if live:
        table = Table(title="Rounds in progress")
        for column in ("round", "status", "launch", "due", "audits"):
            table.add_column(column)
        for line in live:
            counts = ", ".join(f"{n} {state}" for state, n in line.progress.items() if n)
            table.add_row(
                line.round_id,
                line.status,
                f"{line.launch_on:%d/%m/%Y}",
                f"{line.due_on:%d/%m/%Y}",
                f"{line.assignments}: {counts}" if counts else "0",
            )
        console.print(table)
    done = len(found.rounds) - len(live)
    console.print(
        f"{plural(len(live), 'round')} in progress, {done} closed or cancelled "
        "('auditround round list' shows every one)."
    )


def _next(moment: dt.datetime | None, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%a %d %b %Y %H:%M}" if moment else "never (paused)"


def _ago(span: dt.timedelta) -> str:
    return "in the future" if span < dt.timedelta(0) else f"{_span(span)} ago"


def _span(span: dt.timedelta) -> str:
    """'5 minutes', '3 hours', '2 days': rounded down to the unit that reads best."""
    minutes = int(span.total_seconds() // 60)
    if minutes < 120:
        return plural(minutes, "minute")
    if minutes < 48 * 60:
        return plural(minutes // 60, "hour")
    return plural(minutes // (24 * 60), "day")
