"""``auditround actions``: turn the lessons that went forward into SMART actions, follow
them through their updates to done (or dropped), and export the action plan.

The use cases are :mod:`audit_core.services.actions`; adding an action emails its owner
their secure link (:meth:`audit_core.bootstrap.App.add_action`), and the email is sent at
once, as a fix to an open round's is.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from audit_core.cli.common import STATE, console, plural, print_json
from audit_core.cli.round_cmd import _date, _day
from audit_core.domain.errors import AuditRoundError

if TYPE_CHECKING:
    from audit_core.domain.actions import ActionView
    from audit_core.services.actions import LessonView

app = typer.Typer(
    help="Make actions from the lessons that went forward, update and close them, export the plan.",
    no_args_is_help=True,
)

ACTION = typer.Argument(..., metavar="ID", help="The action's number (see 'actions list').")
JSON = typer.Option(False, "--json", help="Print JSON instead of text.")
ROUND = typer.Option(None, "--round", help="Only this round's, e.g. 2026-H1.")
AREA = typer.Option(None, "--area", help="Only this area's, e.g. hackney.")
AGENCY = typer.Option(None, "--agency", help="Only the actions owned in this agency.")
STATUS = typer.Option(None, "--status", help="Only this status: open, in_progress, done, dropped.")
COLOURS = {"red": "bold red", "amber": "yellow", "green": "green"}


def _rag(view: ActionView) -> str:
    shown = view.shown_rag
    colour = COLOURS.get(shown)
    return f"[{colour}]{shown}[/]" if colour else shown


def _status(status: str) -> str:
    return status.replace("_", " ")


def _short(text: str, most: int = 80) -> str:
    line = " ".join(text.split())
    return line if len(line) <= most else line[: most - 1] + "…"


def _said(view: ActionView) -> str:
    """One line on where the action stands."""
    reason = f" ({escape(view.status_reason)})" if view.status_reason and view.closed else ""
    return (
        f"action [bold]{view.id}[/] ({escape(view.theme_name)}, round {view.round_id}, "
        f"{escape(view.area_name or '-')}): {_status(view.status)}{reason}, RAG {_rag(view)}, "
        f"due {_day(view.due_on)}; owner {escape(view.owner_name)} "
        f"({escape(view.agency_name or '-')})"
    )


@app.command("lessons")
def lessons(round_id: str | None = ROUND, area: str | None = AREA, as_json: bool = JSON) -> None:
    """The lessons that went forward from the audit day (of rounds at their briefing or
    closed), each with the actions already made from it."""
    from audit_core.services.actions import lessons_to_act_on

    with STATE.app.unit_of_work() as uow:
        found = lessons_to_act_on(uow, round_id=round_id, area_id=area)
    if as_json:
        print_json([lesson.to_json() for lesson in found])
        return
    if not found:
        console.print(
            "No lesson to act on: a round's lessons that went forward come here once its "
            "audit day is recorded (auditround round moderate)."
        )
        return
    console.print(_lessons_table(found))
    console.print(
        "Make an action from one: auditround actions add --lesson ID --text T --measure M "
        "--owner PERSON",
        highlight=False,
        soft_wrap=True,
    )


def _lessons_table(found: list[LessonView]) -> Table:
    table = Table(title=f"Lessons to act on ({len(found)})")
    for column in ("lesson", "round", "theme", "the lesson", "cases", "actions"):
        table.add_column(column, justify="right" if column == "lesson" else "left")
    for lesson in found:
        made = ", ".join(f"#{a.id} {_status(a.status)}" for a in lesson.actions) or "none yet"
        again = " [yellow](recurring)[/]" if lesson.recurring else ""
        table.add_row(
            str(lesson.id),
            lesson.round_id,
            escape(lesson.theme_name) + again,
            escape(lesson.text),
            escape(", ".join(lesson.case_refs)),
            made,
        )
    return table


@app.command("add")
def add(
    lesson: int = typer.Option(
        ..., "--lesson", help="The lesson's number (see 'actions lessons')."
    ),
    text: str = typer.Option(..., "--text", help="What will be done (a SMART action)."),
    measure: str = typer.Option(..., "--measure", help="How will success be measured?"),
    owner: str | None = typer.Option(
        None, "--owner", help="The owner: a person of people.yaml, by id (e.g. amara-bello)."
    ),
    owner_name: str | None = typer.Option(None, "--owner-name", help="Or the owner's name ..."),
    owner_email: str | None = typer.Option(None, "--owner-email", help="... email address ..."),
    agency: str | None = typer.Option(None, "--agency", help="... and agency (an id)."),
    due: str | None = typer.Option(
        None,
        "--due",
        help="The due date, e.g. 2026-09-30 (default: cadence.actions_due_months on).",
    ),
    as_json: bool = JSON,
) -> None:
    """Make an action from a lesson that went forward, and email its owner their secure
    link to record progress. Exits 3 or 4 like 'outbox dispatch' if the email did not go."""
    from audit_core.cli.outbox_cmd import exit_if_undelivered, print_dispatch

    named = (owner_name, owner_email, agency)
    if owner is not None and any(v is not None for v in named):
        raise AuditRoundError(
            "Give the owner by --owner PERSON, or by name, email and agency; not both."
        )
    if owner is None and not all(v is not None for v in named):
        raise AuditRoundError(
            "Give the owner: --owner PERSON (of people.yaml), or --owner-name N --owner-email E "
            "--agency A."
        )
    who: str | tuple[str, str, str] = (
        owner if owner is not None else (owner_name or "", owner_email or "", agency or "")
    )
    added, sent = STATE.app.add_action(
        lesson_id=lesson, text=text, measure=measure, owner=who, due_on=_date(due, "--due")
    )
    if as_json:
        print_json({"action": added.to_json(), "dispatch": dataclasses.asdict(sent)})
        exit_if_undelivered(sent)
        return
    console.print(f"[bold green]Added[/] {_said(added)}.", highlight=False)
    console.print(
        f"Its owner's link to record progress is emailed to {escape(added.owner_email)}.",
        highlight=False,
    )
    print_dispatch(sent, as_json=False)
    exit_if_undelivered(sent)


@app.command("list")
def list_actions(
    agency: str | None = AGENCY,
    status: str | None = STATUS,
    round_id: str | None = ROUND,
    area: str | None = AREA,
    overdue: bool = typer.Option(False, "--overdue", help="Only those past their due date."),
    as_json: bool = JSON,
) -> None:
    """The actions that match, soonest due first: owner, due date, status, RAG for today,
    last update."""
    from audit_core.services.actions import list_actions as listed

    with STATE.app.unit_of_work() as uow:
        found = listed(
            uow, agency_id=agency, status=status, round_id=round_id, area_id=area, overdue=overdue
        )
    if as_json:
        print_json([v.to_json() for v in found])
        return
    if not found:
        console.print("No action matches.")
        return
    table = Table(title=f"Actions ({len(found)})")
    columns = ("id", "round", "area", "theme", "action", "owner", "agency", "due", "status", "RAG")
    for column in (*columns, "last update"):
        table.add_column(column, justify="right" if column == "id" else "left")
    for v in found:
        last = v.last_update
        table.add_row(
            str(v.id),
            v.round_id,
            escape(v.area_name or "-"),
            escape(v.theme_name),
            escape(_short(v.text)),
            escape(v.owner_name),
            escape(v.agency_id or "-"),
            _day(v.due_on),
            _status(v.status),
            _rag(v),
            f"{last.at:%d/%m/%Y} {escape(_short(last.note, 40))}".strip() if last else "-",
        )
    console.print(table)


@app.command("update")
def update(
    action_id: int = ACTION,
    note: str = typer.Option(..., "--note", help="What has been done, in a line or two."),
    status: str | None = typer.Option(
        None, "--status", help="Its new status: open, in_progress or done (default: as it is)."
    ),
    evidence: str = typer.Option(
        "", "--evidence", help="A link or a short text (no case material)."
    ),
    due: str | None = typer.Option(None, "--due", help="A new due date, e.g. 2026-10-30."),
    as_json: bool = JSON,
) -> None:
    """Record an update of an action: a note, and perhaps a new status, evidence or due
    date. A done action can only go back to in progress; a dropped one never changes."""
    from audit_core.services.actions import update as change

    due_on = _date(due, "--due")
    with STATE.app.unit_of_work() as uow:
        updated = change(uow, action_id, note=note, status=status, evidence=evidence, due_on=due_on)
    if as_json:
        print_json(updated.to_json())
        return
    console.print(f"[bold green]Updated[/] {_said(updated)}.", highlight=False)


@app.command("close")
def close(
    action_id: int = ACTION,
    done: bool = typer.Option(False, "--done", help="It is done."),
    drop: bool = typer.Option(False, "--drop", help="It is no longer to be done (with --reason)."),
    reason: str = typer.Option("", "--reason", help="Why it is dropped."),
    note: str = typer.Option("", "--note", help="A last note."),
    as_json: bool = JSON,
) -> None:
    """Close an action as done, or drop it with its reason; it is no longer followed up."""
    from audit_core.services.actions import close as close_action

    if done == drop:
        raise AuditRoundError("Give --done, or --drop with --reason TEXT.")
    with STATE.app.unit_of_work() as uow:
        closed = close_action(uow, action_id, done=done, reason=reason, note=note)
    if as_json:
        print_json(closed.to_json())
        return
    console.print(f"[bold green]Closed[/] {_said(closed)}.", highlight=False)


@app.command("export")
def export(
    path: Path = typer.Argument(..., metavar="FILE", help="FILE.csv or FILE.xlsx."),
    agency: str | None = AGENCY,
    status: str | None = STATUS,
    as_json: bool = JSON,
) -> None:
    """Write the action plan to a spreadsheet: each action's round, area, theme, text,
    measure, owner, agency, due date, status, RAG and last update. Nothing typed can run
    as a formula. The export is kept in the audit trail."""
    from audit_core.bootstrap import progress_workbook
    from audit_core.services.actions import export_table

    kind = path.suffix.lower().lstrip(".")
    if kind not in ("csv", "xlsx"):
        raise AuditRoundError(
            f"{path} must end in .csv or .xlsx: the action plan is a spreadsheet."
        )
    _check_writable(path)
    with STATE.app.unit_of_work() as uow:
        rows = export_table(uow, kind=kind, agency_id=agency, status=status)
    data = _csv(rows) if kind == "csv" else progress_workbook("Action plan", rows)
    _write_whole(path, data)
    if as_json:
        print_json({"written": str(path), "format": kind, "actions": len(rows) - 1})
        return
    console.print(
        f"Wrote the action plan ({plural(len(rows) - 1, 'action')}) to {escape(str(path))}.",
        highlight=False,
    )


def _csv(rows: list[list[str]]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel reads the accents."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _check_writable(path: Path) -> None:
    folder = path.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise AuditRoundError(f"The folder {folder} does not exist or cannot be written to.")
    if path.is_dir():
        raise AuditRoundError(f"{path} is a folder: give the file to write.")


def _write_whole(path: Path, data: bytes) -> None:
    """Write the file whole or not at all (a part file renamed into place)."""
    temporary = path.with_name(f".{path.name}.part")
    try:
        temporary.write_bytes(data)
        temporary.replace(path)
    except OSError as exc:
        raise AuditRoundError(f"{path} could not be written ({exc.strerror or exc}).") from None
    finally:
        temporary.unlink(missing_ok=True)


# An owner's link sent again, and the follow-up of the plan (their own module).
from audit_core.cli import action_follow_up_cmd  # noqa: E402

app.command("resend")(action_follow_up_cmd.resend)
app.command("follow-up")(action_follow_up_cmd.follow_up)
