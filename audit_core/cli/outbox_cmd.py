"""``auditround outbox``: see, send, retry and read the queued email."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from audit_core.cli.common import STATE, console, plural, print_json
from audit_core.domain.errors import AuditRoundError

if TYPE_CHECKING:
    from audit_core.adapters.dispatcher import DispatchResult

app = typer.Typer(help="See, send, retry and read the queued email.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print JSON instead of a table.")

# Exit codes of a run that could not deliver (1 is a mistake in the input or settings).
EXIT_FAILED = 3  # some message was refused for good (the business unit has been alerted)
EXIT_STOPPED = 4  # the run stopped: the mail server could not be reached; the rest waits


def _when(value: dt.datetime | None) -> str:
    from audit_core.domain.workdays import LONDON

    return value.astimezone(LONDON).strftime("%a %d %b %Y %H:%M") if value else "-"


def _plain(summary: Any) -> dict[str, object]:
    return dataclasses.asdict(summary)


@app.command("status")
def status(as_json: bool = JSON) -> None:
    """Counts by status and kind, the oldest waiting message, the next retry, every failure."""
    from audit_core.services.outbox import status as outbox_status

    with STATE.app.unit_of_work() as uow:
        report = outbox_status(uow.session, now=uow.now)
    if as_json:
        print_json(
            {
                "by_status": report.by_status,
                "by_kind": report.by_kind,
                "due_now": report.due_now,
                "next_retry_at": report.next_retry_at,
                "oldest_queued_at": report.oldest_queued_at,
                "failures": [_plain(s) for s in report.failures],
                "partly_refused": [_plain(s) for s in report.partly_refused],
            }
        )
        return
    states = list(report.by_status)
    table = Table(title="Outbox")
    table.add_column("kind")
    for state in states:
        table.add_column(state, justify="right")
    for kind, counts in report.by_kind.items():
        table.add_row(kind, *(str(counts.get(s, 0)) for s in states))
    table.add_row("[bold]all[/]", *(f"[bold]{report.by_status[s]}[/]" for s in states))
    console.print(table)
    console.print(
        f"Due now: {report.due_now}. Oldest waiting message queued: "
        f"{_when(report.oldest_queued_at)}."
    )
    if report.next_retry_at is not None:
        console.print(f"Next retry due: {_when(report.next_retry_at)}.")
    if report.failures:
        failed = Table(title="Not delivered", title_style="bold red")
        for column in ("id", "kind", "to", "attempts", "last error"):
            failed.add_column(column)
        for s in report.failures:
            failed.add_row(
                str(s.id), s.kind, ", ".join(s.recipients), str(s.attempts), s.last_error or ""
            )
        console.print(failed)
        console.print("Send one again with 'auditround outbox retry ID' once the cause is fixed.")
    for s in report.partly_refused:
        console.print(
            f"[yellow]Message {s.id} was delivered, but refused for: "
            f"{', '.join(s.refused_recipients)}[/]"
        )


@app.command("dispatch")
def dispatch(
    dry_run: Path | None = typer.Option(
        None,
        "--dry-run",
        help="Write the due messages as .eml files here; send nothing.",
        file_okay=False,
    ),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Send at most this many."),
    as_json: bool = JSON,
) -> None:
    """Send the due messages over SMTP (settings from AUDITROUND_SMTP_* variables).

    Exits 3 if a message was refused for good, 4 if the mail server could not be reached."""
    if dry_run is not None:
        written = STATE.app.write_due(dry_run, limit=limit)
        if as_json:
            print_json({"dry_run": True, "written": [str(p) for p in written]})
        else:
            console.print(
                f"Wrote {plural(len(written), 'message')} to {dry_run}; nothing was sent."
            )
        return
    with console.status("Sending...", spinner="dots"):
        result = STATE.app.dispatch(limit=limit)
    print_dispatch(result, as_json)
    exit_if_undelivered(result)


def exit_if_undelivered(result: DispatchResult) -> None:
    """Exit non-zero, with the reason on stderr, if the run stopped or a message failed."""
    if result.stopped:
        code = EXIT_STOPPED
        why = (
            f"the mail server could not be reached: {result.stopped}. The messages wait in the "
            "outbox; send them with 'auditround outbox dispatch' once it is fixed."
        )
    elif result.failed:
        code = EXIT_FAILED
        why = (
            f"{plural(result.failed, 'message')} could not be delivered; {_told(result)} "
            "See 'auditround outbox list --status failed'."
        )
    else:
        return
    Console(stderr=True).print(f"[bold red]Error:[/] {why}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _told(result: DispatchResult) -> str:
    """What the business unit was really sent about the failures of a run."""
    if result.alerts_queued >= result.failed:
        return "an alert to the business unit is in the outbox."
    if result.alerts_queued:
        return (
            f"alerts to the business unit are in the outbox for {result.alerts_queued} of "
            "them (an alert to the business unit that fails raises no alert of its own)."
        )
    return "no alert was queued: what failed was itself an alert to the business unit."


def finish_day_run(
    key: str,
    report: Any,
    sent: DispatchResult | None,
    *,
    as_json: bool,
    show: Callable[[], None],
) -> None:
    """The end of a day's run that sends (``chase``, ``actions follow-up``): the report (as
    JSON under ``key``, or ``show``n), the dispatch's counts, and the exit code if an email
    could not go. ``sent`` is None for a dry run, which sends nothing."""
    if as_json:
        dispatch = dataclasses.asdict(sent) if sent else None
        print_json({key: report.to_json(), "dispatch": dispatch})
    else:
        show()
        if sent is not None:
            print_dispatch(sent, as_json=False)
    if sent is not None:
        exit_if_undelivered(sent)


def print_dispatch(result: DispatchResult, as_json: bool) -> None:
    """Show a dispatch run's counts (also used by ``auditround round launch``)."""
    if as_json:
        print_json(dataclasses.asdict(result))
        return
    console.print(
        f"Sent {result.sent}, to retry later {result.retrying}, failed {result.failed}"
        + (f", partly refused {result.partly_refused}" if result.partly_refused else "")
        + (f", taken back from a stopped dispatcher {result.reclaimed}" if result.reclaimed else "")
        + "."
    )  # what failed, or why the run stopped, is said by exit_if_undelivered (on stderr)


@app.command("list")
def list_messages(
    status: str | None = typer.Option(
        None, "--status", help="Only this state: queued, sending, sent or failed."
    ),
    round_id: str | None = typer.Option(None, "--round", help="Only this round's, e.g. 2026-H1."),
    kind: str | None = typer.Option(
        None, "--kind", help="Only this kind: task, nomination, launch_summary, alert, ..."
    ),
    as_json: bool = JSON,
) -> None:
    """Each message: recipient, kind, state, attempts, next attempt and last error."""
    from audit_core.services.outbox import list_messages as listed

    with STATE.app.unit_of_work() as uow:
        messages = listed(
            uow.session,
            status=status.strip().lower() if status else None,
            round_id=round_id,
            kind=kind.strip() if kind else None,
        )
    if as_json:
        print_json([_plain(m) for m in messages])
        return
    table = Table(title=f"Outbox: {len(messages)} message{'' if len(messages) == 1 else 's'}")
    for column in ("id", "to", "kind", "state", "attempts", "next attempt", "last error"):
        table.add_column(column, justify="right" if column in ("id", "attempts") else "left")
    for m in messages:
        waiting = m.status == "queued"
        table.add_row(
            str(m.id),
            ", ".join(m.recipients),
            m.kind,
            f"[red]{m.status}[/]" if m.status == "failed" else m.status,
            str(m.attempts),
            _when(m.next_attempt_at) if waiting else "-",
            escape(m.last_error or ""),
        )
    console.print(table)


@app.command("retry")
def retry(
    message_id: int | None = typer.Argument(None, help="The message to send again."),
    all_failed: bool = typer.Option(False, "--all-failed", help="Every failed message."),
    as_json: bool = JSON,
) -> None:
    """Queue a failed message (or every failed one) again; the next dispatch sends it."""
    from audit_core.services import outbox

    if (message_id is None) == (not all_failed):
        raise AuditRoundError("Give either a message id or --all-failed.")
    with STATE.app.unit_of_work() as uow:
        if all_failed:
            ids = outbox.retry_all_failed(uow)
        else:
            assert message_id is not None
            ids = [outbox.retry(uow, message_id).id]
    if as_json:
        print_json({"queued_again": ids})
    else:
        console.print(f"Queued again: {', '.join(map(str, ids)) or 'nothing'}.")


@app.command("show")
def show(
    message_id: int = typer.Argument(..., help="The message id (see 'outbox status')."),
    raw: bool = typer.Option(False, "--raw", help="Print the exact bytes that were sent."),
    as_json: bool = JSON,
) -> None:
    """Show a message as its recipient sees it: headers and the text part."""
    from audit_core.services.outbox import show as show_message

    with STATE.app.unit_of_work() as uow:
        view = show_message(uow.session, message_id)
    if raw and not as_json:
        typer.echo(view.raw.decode("utf-8", "replace"), nl=False)
        return
    if as_json:
        data: dict[str, object] = {
            **_plain(view.summary),
            "headers": dict(view.headers),
            "text": view.text,
            "attachments": view.attachments,
        }
        if raw:
            data["raw"] = view.raw.decode("utf-8", "replace")
        print_json(data)
        return
    s = view.summary
    table = Table(show_header=False, box=None)
    table.add_row("[bold]message[/]", f"{s.id} ({s.kind}, {s.dedupe_key})")
    table.add_row("[bold]status[/]", f"{s.status}, {plural(s.attempts, 'attempt')}")
    if s.sent_at:
        table.add_row("[bold]sent[/]", _when(s.sent_at))
    if s.last_error:
        table.add_row("[bold]last error[/]", s.last_error)
    for name, value in view.headers:
        table.add_row(f"[bold]{name}[/]", value)
    if view.attachments:
        table.add_row("[bold]attached[/]", ", ".join(view.attachments))
    console.print(table)
    console.rule()
    console.print(view.text, markup=False, highlight=False)
