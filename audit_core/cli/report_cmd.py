"""``auditround report``: the board's audits over a year, in figures, charts and tables.

``auditround report year 2026-27 [--area A] [--out DIR] [--json]`` writes
``year-report-2026-27[-A].html`` and ``.pdf`` to DIR (default ``out/``) and prints the
main figures (or, with ``--json``, every figure). The use case is
:mod:`audit_core.services.year_report`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from audit_core.cli.common import STATE, console, plural, print_json

if TYPE_CHECKING:
    from audit_core.domain.year_report import YearReport

app = typer.Typer(
    help="Reports over the board's rounds: the year's audits in figures and charts.",
    no_args_is_help=True,
)


@app.command("year")
def year(
    board_year: str = typer.Argument(..., metavar="YEAR", help="The board year, e.g. 2026-27."),
    area: str | None = typer.Option(None, "--area", help="Only this area, e.g. hackney."),
    out: Path = typer.Option(Path("out"), "--out", help="Where the HTML and PDF are written."),
    as_json: bool = typer.Option(False, "--json", help="Print every figure as JSON."),
) -> None:
    """The board year's rounds in figures: grades and themes over time, actions by agency,
    returns on time, late and escalated; written as HTML and PDF."""
    report, written = STATE.app.year_report(board_year, area, out)
    if as_json:
        print_json(report.to_json() | {"files": [str(p) for p in written]})
        return
    _print_report(report)
    for path in written:
        console.print(f"Wrote {escape(str(path))}", highlight=False, soft_wrap=True)


def _print_report(report: YearReport) -> None:
    t = report.totals
    where = f" in {escape(report.area_name)}" if report.area_name else ""
    console.print(
        f"[bold]Year {report.year}[/]{where} ({report.first_day:%d/%m/%Y} to "
        f"{report.last_day:%d/%m/%Y}): {plural(t['rounds'], 'round')}, "
        f"{plural(t['cases'], 'case')}, {t['returns_submitted']} of "
        f"{plural(t['audits'], 'return')} submitted.",
        highlight=False,
    )
    table = Table(title="Rounds and returns")
    for column in ("round", "focus", "launched", "status"):
        table.add_column(column)
    for column in ("cases", "on time", "late", "not submitted", "escalated"):
        table.add_column(column, justify="right")
    for r, c in zip(report.rounds, report.chase, strict=True):
        table.add_row(
            r.round_id,
            escape(r.focus_name),
            f"{r.launched_on:%d/%m/%Y}",
            r.status,
            str(r.cases),
            str(c.on_time),
            str(c.late),
            str(c.not_in),
            str(c.escalated),
        )
    console.print(table)
    console.print(
        f"Actions from the year's lessons: {t['actions']} ({t['actions_done']} done, "
        f"{t['actions_open']} open of which {t['actions_overdue']} overdue, "
        f"{t['actions_dropped']} dropped).",
        highlight=False,
    )
    if report.lessons:
        top = ", ".join(f"{escape(x.name)} {x.total}" for x in report.lessons[:3])
        console.print(f"Most frequent lessons: {top}.", highlight=False)
