"""``auditround round moderate``: the audit day's record of a round, kept in a YAML file.

With ``--start`` the command writes the file the meeting starts from; without it, it
records the file and says what is still missing. The file is written and read by the
composition root (:meth:`audit_core.bootstrap.App.audit_day_sheet`,
:meth:`~audit_core.bootstrap.App.record_audit_day`); the rules are in
:mod:`audit_core.services.moderation`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from audit_core.cli.common import STATE, console, plural, print_json
from audit_core.domain.errors import AuditRoundError

if TYPE_CHECKING:
    from audit_core.domain.moderation import Sheet
    from audit_core.services.moderation import AuditDayResult


def moderate(
    round_id: str = typer.Argument(..., metavar="ROUND", help="The round, e.g. 2026-H1."),
    path: Path = typer.Argument(..., metavar="FILE", help="The audit day's YAML file."),
    start: bool = typer.Option(
        False,
        "--start",
        help="Write the file the audit day starts from (collated returns, what is recorded).",
    ),
    force: bool = typer.Option(False, "--force", help="With --start: write over FILE."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Record the audit day: each case's agreed grade, key findings and summary, and which
    strengths and lessons go forward to the briefing, in what wording.

    Start with --start to write FILE, fill it in, then run the command without --start to
    record it (as often as needed). Once every case is agreed and every finding decided,
    the round moves from moderation to briefing."""
    if force and not start:
        raise AuditRoundError("--force goes with --start: it lets the new file replace FILE.")
    if start:
        sheet = STATE.app.audit_day_sheet(round_id, path, force=force)
        _print_started(sheet, path, as_json=as_json)
        return
    result = STATE.app.record_audit_day(round_id, path)
    if as_json:
        print_json({"file": str(path), **result.to_json()})
        return
    _print_recorded(result, path)


def _print_started(sheet: Sheet, path: Path, *, as_json: bool) -> None:
    agreed = sum(1 for c in sheet.cases if c.agreed_grade is not None)
    undecided = sum(1 for f in sheet.findings if f.forward is None)
    if as_json:
        print_json(
            {
                "file": str(path),
                "round": sheet.round_id,
                "cases": len(sheet.cases),
                "cases_agreed": agreed,
                "strengths": len(sheet.strengths),
                "lessons": len(sheet.lessons),
                "undecided": undecided,
            }
        )
        return
    console.print(
        f"Wrote [bold]{escape(str(path))}[/] for round {sheet.round_id}: "
        f"{plural(len(sheet.cases), 'case')} ({agreed} agreed so far), "
        f"{plural(len(sheet.strengths), 'strength')} and {plural(len(sheet.lessons), 'lesson')} "
        f"({undecided} not decided yet).",
        highlight=False,
    )
    console.print(
        "Fill it in on the audit day, then record it with: auditround round moderate "
        f"{sheet.round_id} {escape(str(path))}",
        highlight=False,
    )


def _print_recorded(result: AuditDayResult, path: Path) -> None:
    if result.changed:
        console.print(
            f"Round [bold]{result.round_id}[/]: the audit day is recorded from "
            f"{escape(str(path))}.",
            highlight=False,
        )
    else:
        console.print(
            f"Round [bold]{result.round_id}[/]: nothing changed; {escape(str(path))} says what "
            "is recorded already.",
            highlight=False,
        )
    changed = f"; changed: {', '.join(result.cases_changed)}" if result.cases_changed else ""
    console.print(
        f"Cases: {result.cases_agreed} of {plural(result.cases, 'case')} with an agreed "
        f"grade{escape(changed)}.",
        highlight=False,
    )
    console.print(
        f"Findings: {result.findings} recorded{' (replaced)' if result.findings_changed else ''}"
        f": {result.forward} go forward to the briefing, {result.kept_back} stay in the round's "
        f"record only, {result.undecided} not decided.",
        highlight=False,
    )
    if result.missing:
        table = Table(title=f"Still missing ({len(result.missing)})")
        table.add_column("where in the file")
        table.add_column("what")
        for m in result.missing:
            table.add_row(escape(m.location), escape(m.what))
        console.print(table)
    _print_next(result)


def _print_next(result: AuditDayResult) -> None:
    if result.moved_to_briefing:
        console.print(
            f"[bold green]Moderation is complete:[/] round {result.round_id} moved to briefing. "
            "Its learning briefing can be drafted from this record now.",
            highlight=False,
        )
    elif result.status == "moderation":
        console.print(
            f"Round {result.round_id} stays in moderation until nothing is missing.",
            highlight=False,
        )
    elif result.missing:
        console.print(
            f"[yellow]Round {result.round_id} is at its briefing already: a finding not decided "
            "does not go forward to it.[/]",
            highlight=False,
        )
    else:
        console.print(f"Round {result.round_id} is at its briefing.", highlight=False)
