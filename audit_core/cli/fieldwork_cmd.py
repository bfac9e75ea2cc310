"""``auditround round decline / fill / extend``, and ``round reassign`` once a round is open.

Fixes to an open round, added to the ``round`` command group: each runs one use case of
:mod:`audit_core.services.fieldwork` or :mod:`audit_core.services.deadlines` in one
transaction, then sends what it queued (like ``round launch``). Running the same
command again changes and sends nothing.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from audit_core.cli.common import STATE, console, print_json
from audit_core.cli.round_cmd import _date, app

if TYPE_CHECKING:
    from audit_core.adapters.dispatcher import DispatchResult
    from audit_core.services.deadlines import Extension
    from audit_core.services.fieldwork import Change
    from audit_core.services.round_changes import ReassignResult

ROUND = typer.Argument(..., metavar="ROUND", help="The round, e.g. 2026-H1.")
AREA = typer.Option(
    None, "--area", help="The case's area, if its reference is used in several areas."
)
JSON = typer.Option(False, "--json", help="Print the result as JSON.")


def _sent(sent: DispatchResult | None, as_json: bool) -> None:
    """The dispatch's counts (in text), and a non-zero exit if something was not delivered."""
    if sent is None:
        return
    from audit_core.cli.outbox_cmd import exit_if_undelivered, print_dispatch

    if not as_json:
        print_dispatch(sent, as_json=False)
    exit_if_undelivered(sent)


def _queued(keys: tuple[str, ...]) -> str:
    kinds = {
        "task": "the new auditor's task",
        "released": "a note to the released auditor",
        "declined": "a note to the business unit",
        "extended": "the new date to the auditor",
    }
    return "; ".join(kinds.get(key.split(":", 1)[0], key) for key in keys)


def reassign_and_report(
    round_id: str,
    case_ref: str,
    agency: str,
    to: str | None,
    area: str | None,
    as_json: bool,
) -> None:
    """``round reassign``: planned, the plan changes; open, the audit is handed over and the
    emails go out (the new auditor's task, a note to the one released)."""
    from audit_core.services.fieldwork import round_is_open
    from audit_core.services.round_changes import reassign as give

    with STATE.app.unit_of_work() as uow:
        is_open = round_is_open(uow, round_id)
    sent: DispatchResult | None = None
    result: ReassignResult
    if is_open:
        result, sent = STATE.app.change_then_send(
            lambda uow: give(
                uow,
                round_id=round_id,
                case_ref=case_ref,
                agency_id=agency,
                auditor_id=to,
                area_id=area,
            )
        )
    else:
        with STATE.app.unit_of_work() as uow:
            result = give(
                uow,
                round_id=round_id,
                case_ref=case_ref,
                agency_id=agency,
                auditor_id=to,
                area_id=area,
            )
    if as_json:
        data: dict[str, object] = {
            "round": result.round_id,
            "case_ref": result.case_ref,
            "agency": result.agency_id,
            "from": result.previous,
            "to": result.auditor_id,
        }
        if sent is not None:
            data |= {
                "changed": result.changed,
                "queued": list(result.queued),
                "dispatch": dataclasses.asdict(sent),
            }
        print_json(data)
        _sent(sent, as_json)
        return
    if not result.changed:
        console.print("Nothing changed: that is already the assignment.")
    else:
        console.print(
            f"Round {result.round_id}, case {escape(result.case_ref)}, {result.agency_id}: "
            f"{result.previous or 'unfilled'} -> {result.auditor_id or 'unfilled'}.",
            highlight=False,
        )
        if is_open:
            console.print(
                f"The old link no longer works. Queued: {_queued(result.queued)}.", highlight=False
            )
    _sent(sent, as_json)


def _print_change(change: Change, sent: DispatchResult, as_json: bool, done: str) -> None:
    if as_json:
        print_json({**change.to_json(), "dispatch": dataclasses.asdict(sent)})
        _sent(sent, as_json)
        return
    where = f"Round {change.round_id}, case {escape(change.case_ref)}, {change.agency_id}"
    if not change.changed:
        console.print(f"{where}: nothing changed, it is {change.status} already.", highlight=False)
    else:
        console.print(f"{where}: {done}", highlight=False)
        console.print(f"Queued: {_queued(change.queued)}.", highlight=False)
    _sent(sent, as_json)


@app.command("decline")
def decline(
    round_id: str = ROUND,
    case_ref: str = typer.Argument(..., metavar="CASE", help="The case reference."),
    agency: str = typer.Option(..., "--agency", help="The agency whose auditor declined."),
    reason: str = typer.Option(..., "--reason", help="Why they declined (kept in the trail)."),
    area: str | None = AREA,
    as_json: bool = JSON,
) -> None:
    """Record that an auditor declined their task, and why.

    The link stops working, the business unit is told, and the audit waits for
    'round reassign'."""
    from audit_core.services.fieldwork import decline as record_decline

    change, sent = STATE.app.change_then_send(
        lambda uow: record_decline(
            uow,
            round_id=round_id,
            case_ref=case_ref,
            agency_id=agency,
            reason=reason,
            area_id=area,
        )
    )
    _print_change(
        change,
        sent,
        as_json,
        f"{change.previous} declined; their link no longer works. Give it to another auditor "
        f"with: auditround round reassign {change.round_id} {escape(change.case_ref)} "
        f"--agency {change.agency_id} --to AUDITOR",
    )


@app.command("fill")
def fill(
    round_id: str = ROUND,
    case_ref: str = typer.Argument(..., metavar="CASE", help="The case reference."),
    agency: str = typer.Option(..., "--agency", help="The agency whose slot is unfilled."),
    to: str = typer.Option(
        ..., "--to", help="The auditor the agency lead nominated (an id in people.yaml)."
    ),
    area: str | None = AREA,
    as_json: bool = JSON,
) -> None:
    """Give an unfilled slot to the auditor the agency lead nominated.

    Their task goes out and the nomination is closed."""
    from audit_core.services.fieldwork import fill as fill_slot

    change, sent = STATE.app.change_then_send(
        lambda uow: fill_slot(
            uow, round_id=round_id, case_ref=case_ref, agency_id=agency, auditor_id=to, area_id=area
        )
    )
    _print_change(
        change, sent, as_json, f"filled by {change.auditor_id}; the nomination is closed."
    )


@app.command("extend")
def extend(
    round_id: str = ROUND,
    case_ref: str | None = typer.Argument(
        None, metavar="[CASE]", help="One case's audit only (with --agency); default: the round."
    ),
    to: str = typer.Option(..., "--to", help="The new deadline, a working day (2026-04-07)."),
    reason: str = typer.Option(..., "--reason", help="Why it moves (kept in the trail)."),
    agency: str | None = typer.Option(
        None, "--agency", help="With CASE: the agency whose audit is extended."
    ),
    area: str | None = AREA,
    as_json: bool = JSON,
) -> None:
    """Move a deadline later: the round's, or one audit's, with a reason.

    Round-wide, every audit not yet submitted moves too. Reminders follow the new date;
    each auditor with a task out is told."""
    from audit_core.services.deadlines import extend as extend_deadline

    new_date = _date(to, "--to")
    assert new_date is not None
    result, sent = STATE.app.change_then_send(
        lambda uow: extend_deadline(
            uow,
            round_id=round_id,
            to=new_date,
            reason=reason,
            case_ref=case_ref,
            agency_id=agency,
            area_id=area,
        )
    )
    _print_extension(result, sent, as_json)


def _print_extension(result: Extension, sent: DispatchResult, as_json: bool) -> None:
    if as_json:
        print_json({**result.to_json(), "dispatch": dataclasses.asdict(sent)})
        _sent(sent, as_json)
        return
    what = (
        f"Round {result.round_id}"
        if result.case_ref is None
        else f"Round {result.round_id}, case {escape(result.case_ref)}, {result.agency_id}"
    )
    new, old = result.due_on.strftime("%a %d/%m/%Y"), result.previous_due.strftime("%a %d/%m/%Y")
    if not result.changed:
        console.print(f"{what}: nothing changed, returns are due {new} already.", highlight=False)
    else:
        audits = len(result.moved)
        told = sum(key.startswith("extended:") for key in result.queued)
        console.print(
            f"{what}: returns now due {new} (were due {old}); {audits} "
            f"{'audit' if audits == 1 else 'audits'} moved, {told} "
            f"{'email' if told == 1 else 'emails'} to their auditors.",
            highlight=False,
        )
    _sent(sent, as_json)
