"""``auditround round``: plan a round, review it, and adjust it before launch."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from audit_core.cli.common import STATE, console, plural, print_json
from audit_core.domain.errors import AuditRoundError

if TYPE_CHECKING:
    from audit_core.domain.workdays import Timeline
    from audit_core.services.launch import LaunchResult
    from audit_core.services.round_view import Opening

app = typer.Typer(
    help="Plan a round, review and adjust it, launch it, and fix it while it is open.",
    no_args_is_help=True,
)


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise AuditRoundError(
            f"{option} '{text}' is not a date: use the form 2026-03-02."
        ) from None


def _day(day: dt.date) -> str:
    return day.strftime("%a %d/%m/%Y")


def _timeline_table(timeline: Timeline) -> Table:
    table = Table(title="Timeline (working days; England and Wales bank holidays skipped)")
    table.add_column("date")
    table.add_column("day")
    table.add_column("what happens")
    for day, what in timeline.events():
        table.add_row(day.strftime("%d/%m/%Y"), day.strftime("%A"), what)
    return table


@app.command("plan")
def plan(
    focus: str = typer.Option(..., "--focus", help="The focus id (see config/focuses.yaml)."),
    period: str = typer.Option(..., "--period", help="The round's period: 2026-H1 or 2026-H2."),
    areas: str | None = typer.Option(
        None, "--areas", help="Comma-separated area ids (default: every area of the board)."
    ),
    cases: int | None = typer.Option(
        None, "--cases", help="Cases per area (default: the focus's cases_per_area)."
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="Random seed; the same register and seed give the same selection."
    ),
    launch_on: str | None = typer.Option(
        None,
        "--launch-on",
        help="Launch date, within the period (default: the next working day, or the period's "
        "first working day if it starts later).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Select the cases of a new round and assign an auditor to each agency's part."""
    from audit_core.services.planning import plan_round

    with STATE.app.unit_of_work() as uow:
        result = plan_round(
            uow,
            period=period,
            focus_id=focus,
            area_ids=areas.split(",") if areas else None,
            cases_per_area=cases,
            seed=seed,
            launch_on=_date(launch_on, "--launch-on"),
        )
    if as_json:
        print_json(result.to_json())
        return
    focus_name = STATE.app.config().focus(result.focus_id).name
    console.print(
        f"[bold green]Round {result.round_id} planned[/]: {focus_name}, "
        f"{plural(result.cases, 'case')} (seed {result.seed})."
    )
    table = Table(title="Cases by area")
    for column in ("area", "asked", "eligible", "selected"):
        table.add_column(column, justify="left" if column == "area" else "right")
    for a in result.areas:
        table.add_row(a.area_id, str(a.requested), str(a.eligible), str(a.selected))
    console.print(table)
    console.print(
        f"Auditors: {result.filled} of {plural(result.slots, 'agency audit')} assigned; "
        f"largest load {plural(result.max_load, 'case')}."
    )
    if result.unfilled:
        console.print(
            f"[yellow]{plural(result.unfilled, 'agency audit')} without an eligible auditor yet; "
            "the agency lead is asked to nominate one at launch.[/]"
        )
    for warning in result.warnings:
        console.print(f"[yellow]Warning:[/] {warning}", highlight=False)
    t = result.timeline
    console.print(
        f"Launch {_day(t.launch_on)}; returns due {_day(t.due_on)}; audit day "
        f"{_day(t.audit_day_on)}; briefing due {_day(t.briefing_due_on)}."
    )
    console.print(f"Review it with: auditround round show {result.round_id}")


@app.command("show")
def show(
    round_id: str = typer.Argument(..., metavar="ROUND", help="The round, e.g. 2026-H1."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
) -> None:
    """Show a round: cases and why, auditors by agency, loads, gaps and the timeline."""
    from audit_core.services.round_view import show_round

    with STATE.app.unit_of_work() as uow:
        view = show_round(uow, round_id)
    if as_json:
        print_json(view.to_json())
        return
    console.print(
        f"[bold]Round {view.round_id}[/]: {view.focus_name} - {view.status}; areas "
        f"{', '.join(view.areas)}; cases asked {_per_area(view.cases_requested)}; "
        f"seed {view.seed}; "
        f"audit tool {view.audit_tool}; planned by {view.planned_by}."
    )
    if view.opening is not None:
        console.print(_opening(view.opening), highlight=False)
    cases = Table(title=f"Cases ({len(view.cases)})")
    for column in ("case", "area", "stratum", "why it was eligible"):
        cases.add_column(column)
    for c in view.cases:
        cases.add_row(escape(c.reference), c.area_id, c.stratum, escape(c.rationale))
    console.print(cases)

    by_agency = Table(title="Assignments by agency")
    for column in ("agency", "case", "area", "auditor", "status"):
        by_agency.add_column(column)
    previous = None
    for a in view.assignments:
        label = a.agency_name if a.agency_id != previous else ""
        previous = a.agency_id
        auditor = (
            escape(f"{a.auditor_name} ({a.auditor_id})") if a.auditor_id else "[yellow]unfilled[/]"
        )
        status = a.status
        if a.due_on and a.due_on != view.timeline.due_on:  # extended on its own
            status += f", due {a.due_on:%d/%m/%Y}"
        by_agency.add_row(escape(label), escape(a.case_ref), a.area_id, auditor, status)
    console.print(by_agency)

    loads = Table(title="Load per auditor")
    for column in ("auditor", "agency", "cases", "capacity"):
        loads.add_column(column, justify="right" if column in ("cases", "capacity") else "left")
    for x in view.loads:
        loads.add_row(
            escape(f"{x.name} ({x.auditor_id})"), x.agency_id, str(x.load), str(x.capacity)
        )
    console.print(loads)

    if view.unfilled:
        gaps = Table(title="Unfilled: the agency lead will be asked to nominate")
        for column in ("case", "area", "agency", "why"):
            gaps.add_column(column)
        for u in view.unfilled:
            gaps.add_row(escape(u.case_ref), u.area_id, u.agency_id, escape(u.reason))
        console.print(gaps)
    else:
        console.print("Every agency audit has an auditor.")
    console.print(_timeline_table(view.timeline))


@app.command("swap-case")
def swap_case(
    round_id: str = typer.Argument(..., metavar="ROUND", help="The round, e.g. 2026-H1."),
    out_ref: str = typer.Argument(..., metavar="CASE", help="The case reference to take out."),
    in_ref: str | None = typer.Option(
        None,
        "--in",
        help="The case to put in (default: the next eligible case of the same stratum).",
    ),
    area: str | None = typer.Option(
        None, "--area", help="The case's area, if its reference is used in several areas."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Replace a selected case with another eligible case of the same area."""
    from audit_core.services.round_changes import swap_case as swap

    with STATE.app.unit_of_work() as uow:
        result = swap(uow, round_id=round_id, out_ref=out_ref, in_ref=in_ref, area_id=area)
    if as_json:
        print_json(
            {
                "round": result.round_id,
                "area": result.area_id,
                "removed": result.removed,
                "added": result.added,
                "stratum": result.stratum,
                "rationale": result.rationale,
                "assigned": [{"agency": ag, "auditor": au} for ag, au in result.assigned],
            }
        )
        return
    console.print(
        f"Round {result.round_id}: case {escape(result.removed)} replaced by "
        f"[bold]{escape(result.added)}[/] ({result.area_id}, {result.stratum}): "
        f"{escape(result.rationale)}."
    )
    for agency, auditor in result.assigned:
        console.print(f"  {agency}: {auditor or '[yellow]unfilled[/]'}")


@app.command("reassign")
def reassign(
    round_id: str = typer.Argument(..., metavar="ROUND", help="The round, e.g. 2026-H1."),
    case_ref: str = typer.Argument(..., metavar="CASE", help="The case reference."),
    agency: str = typer.Option(..., "--agency", help="The agency whose audit changes hands."),
    to: str | None = typer.Option(None, "--to", help="The auditor id to assign."),
    clear: bool = typer.Option(False, "--clear", help="Leave the audit unfilled."),
    area: str | None = typer.Option(
        None, "--area", help="The case's area, if its reference is used in several areas."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Give one agency's audit of a case to another auditor (or clear it, before launch).

    Once the round is open, the old link stops working, the new auditor's task is sent and
    the released auditor gets a note."""
    if (to is None) == (not clear):
        raise AuditRoundError("Give either --to AUDITOR or --clear.")
    from audit_core.cli.fieldwork_cmd import reassign_and_report

    reassign_and_report(round_id, case_ref, agency, to, area, as_json)


def _per_area(requested: dict[str, int]) -> str:
    return ", ".join(f"{count} in {area}" for area, count in requested.items())


@app.command("launch")
def launch(
    round_id: str = typer.Argument(..., metavar="ROUND", help="The round to launch, e.g. 2026-H1."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
    early: bool = typer.Option(
        False, "--early", help="Launch before the planned launch date (kept in the audit trail)."
    ),
) -> None:
    """Open a planned round, send every task and nomination request, then the summary.

    The business unit's summary says what was delivered and what was not.

    A round launches on or after its planned launch date, within its period. Exits 3 if a
    message was refused for good, 4 if the mail server could not be reached."""
    from audit_core.cli.outbox_cmd import exit_if_undelivered, print_dispatch

    launched, sent = STATE.app.launch(round_id, early=early)
    if as_json:
        print_json({"launch": dataclasses.asdict(launched), "dispatch": dataclasses.asdict(sent)})
        exit_if_undelivered(sent)
        return
    if launched.opened:
        console.print(
            f"Round [bold]{round_id}[/] is open. Queued "
            f"{plural(launched.tasks_queued, 'task email')} and "
            f"{plural(launched.nominations_queued, 'nomination request')}."
        )
    elif launched.queued:
        console.print(
            f"Round [bold]{round_id}[/] was already open; queued "
            f"{plural(launched.queued, 'missing message')}."
        )
    else:
        console.print(
            f"Round [bold]{round_id}[/] was already launched; nothing new to queue "
            f"({plural(launched.already_queued, 'message')} already in the outbox)."
        )
    print_dispatch(sent, as_json=False)
    _print_summary(launched)
    exit_if_undelivered(sent)


def _print_summary(launched: LaunchResult) -> None:
    """What the launch summary told the business unit, or why it waits."""
    summary = launched.summary
    if launched.summary_deferred:
        console.print(
            f"[yellow]The launch summary waits[/]: {escape(launched.summary_deferred)}. Run "
            f"'auditround round launch {launched.round_id}' again once the server is reachable: "
            "it sends what waits, then the summary."
        )
    elif summary is not None and summary.queued:
        t, n = summary.tasks, summary.nominations
        console.print(
            f"Launch summary to the business unit: tasks {t.delivered} delivered, {t.failed} not "
            f"delivered, {t.waiting} waiting for a retry; nomination requests {n.delivered} "
            f"delivered, {n.failed} not delivered, {n.waiting} waiting."
        )


# --- rounds as a list; cancelling one (services.round_list, services.round_cancel) ----------


def _opening(opening: Opening) -> str:
    """When the round opens, or opened (and whether early), or was cancelled; board time."""
    zone = opening.timezone
    planned = f"{opening.launch_at:%a %d/%m/%Y at %H:%M}"
    if opening.launched_at is None:
        text = f"Launches {planned} ({zone})."
    else:
        text = f"Opened {opening.launched_at:%a %d/%m/%Y at %H:%M} ({zone})"
        text += f", early: planned for {planned}." if opening.early else ", on its planned day."
    if opening.cancelled_at is not None:
        text += (
            f" Cancelled {opening.cancelled_at:%a %d/%m/%Y at %H:%M}: "
            f"{escape(opening.cancel_reason or '')}."
        )
    return text


@app.command("list")
def list_rounds(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Every round: status, focus, areas, launch and due dates, and how far its audits are."""
    from audit_core.services.round_list import list_rounds as rounds

    with STATE.app.unit_of_work() as uow:
        lines = rounds(uow)
    if as_json:
        print_json([line.to_json() for line in lines])
        return
    if not lines:
        console.print("No round has been planned yet: plan one with 'auditround round plan'.")
        return
    table = Table(title="Rounds")
    for column in ("round", "status", "focus", "areas", "launch", "due", "audits"):
        table.add_column(column)
    for line in lines:
        counts = ", ".join(f"{n} {state}" for state, n in line.progress.items() if n)
        table.add_row(
            line.round_id,
            line.status,
            escape(line.focus_name),
            ", ".join(line.areas),
            _day(line.launch_on),
            _day(line.due_on),
            f"{line.assignments}: {counts}" if counts else "0",
        )
    console.print(table)


@app.command("cancel")
def cancel(
    round_id: str = typer.Argument(..., metavar="ROUND", help="The round, e.g. 2026-H1."),
    reason: str = typer.Option(
        ..., "--reason", help="Why, in a sentence: kept in the audit trail, told to the auditors."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Cancel a planned or open round; an open round's auditors are told and links retired.

    The period can then be planned again."""
    from audit_core.cli.outbox_cmd import exit_if_undelivered, print_dispatch

    result, sent = STATE.app.cancel_round(round_id, reason)
    if as_json:
        dispatch = dataclasses.asdict(sent) if sent is not None else None
        print_json({"cancel": result.to_json(), "dispatch": dispatch})
    elif not result.cancelled:
        console.print(f"Round [bold]{result.round_id}[/] was already cancelled; nothing changed.")
    else:
        console.print(f"Round [bold]{result.round_id}[/] is cancelled (it was {result.was}).")
        if result.was == "open":
            console.print(
                f"Told {plural(result.auditors_told, 'auditor')} and "
                f"{plural(result.leads_told, 'agency lead')}; "
                f"{plural(result.links_retired, 'secure link')} retired; the business unit "
                "has the list."
            )
        console.print(
            "The period can be planned again: auditround round plan --period "
            f"{result.round_id} --focus FOCUS"
        )
    if sent is not None:
        if not as_json:
            print_dispatch(sent, as_json=False)
        exit_if_undelivered(sent)


@app.command("lock")
def lock(
    round_id: str = typer.Argument(..., metavar="ROUND", help="The round, e.g. 2026-H1."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Close the round's returns: it moves to moderation, and the forms become read-only.

    A return can still be reopened for its auditor from the dashboard."""
    from audit_core.services.round_lock import start_moderation

    with STATE.app.unit_of_work() as uow:
        result = start_moderation(uow, round_id)
    if as_json:
        print_json(dataclasses.asdict(result))
        return
    if not result.moved:
        console.print(f"Round [bold]{round_id}[/] is in moderation already; nothing changed.")
        return
    console.print(
        f"Round [bold]{round_id}[/] is in moderation: "
        f"{plural(result.submitted, 'return')} in, {result.not_received} not received. "
        "The forms are read-only now."
    )


@app.command("collate")
def collate(
    round_id: str = typer.Argument(..., metavar="ROUND", help="The round, e.g. 2026-H1."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Collate the submitted returns for the audit day: grades by section and by agency, each
    case's grades side by side, strengths and lessons by theme, returns not received, and
    immediate concerns (their descriptions are for the business unit only).

    Each collation is kept in the audit trail, since it reads every return."""
    from audit_core.cli.collate_view import print_collation
    from audit_core.services.collation import collate as collate_round

    with STATE.app.unit_of_work() as uow:
        collation = collate_round(uow, round_id)
    if as_json:
        print_json(collation.to_json())
        return
    print_collation(collation)


def _register_moderate() -> None:
    from audit_core.cli.moderate_cmd import moderate

    app.command("moderate")(moderate)


_register_moderate()
