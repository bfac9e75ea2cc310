"""``auditround cases``: import the case register and see what it holds."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from audit_core.cli.common import STATE, console, print_json
from audit_core.domain.errors import AuditRoundError, ImportRejected

app = typer.Typer(help="Import the case register and see what it holds.", no_args_is_help=True)
err = Console(stderr=True)

SHOWN_PROBLEMS = 200  # a file with thousands of bad rows lists the first ones and a count
SHOWN_REFERENCES = 20


def _fail(exc: AuditRoundError) -> typer.Exit:
    err.print(f"[bold red]Error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    return typer.Exit(exc.exit_code)


def _refused(exc: ImportRejected, file: Path, as_json: bool) -> typer.Exit:
    """Print every problem of a refused import (they never contain an identifying value)."""
    if as_json:
        print_json(
            {
                "file": file.name,
                "imported": False,
                "problems": [{"location": p.location, "reason": p.reason} for p in exc.problems],
            }
        )
        return typer.Exit(exc.exit_code)
    if len(exc.problems) == 1 and not exc.problems[0].location:
        problem = exc.problems[0]
        err.print(
            f"[bold red]Error:[/] {escape(problem.file)} was not imported: "
            f"{escape(problem.reason)}.",
            highlight=False,
            soft_wrap=True,
        )
        return typer.Exit(exc.exit_code)
    count = len(exc.problems)
    err.print(
        f"[bold red]{escape(file.name)} was not imported; nothing was written.[/] "
        f"{count} {'problem' if count == 1 else 'problems'} to correct:",
        highlight=False,
    )
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("Where", no_wrap=True)
    table.add_column("Problem")
    for problem in exc.problems[:SHOWN_PROBLEMS]:
        table.add_row(escape(problem.location or "the file"), escape(problem.reason))
    err.print(table)
    if count > SHOWN_PROBLEMS:
        err.print(f"... and {count - SHOWN_PROBLEMS} more (use --json for the full list).")
    return typer.Exit(exc.exit_code)


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="The register export: a .csv or .xlsx file."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Import (or re-import) the case register, all or nothing.

    New cases are added and changed ones updated, by area and case reference;
    cases missing from the file are left as they are. See docs/register.md.
    """
    try:
        result = STATE.app.import_register(file)
    except ImportRejected as exc:
        raise _refused(exc, file, as_json) from None
    except AuditRoundError as exc:
        raise _fail(exc) from None
    if as_json:
        print_json(result.counts())
        return
    console.print(f"Register imported from [bold]{escape(result.file)}[/] ({result.rows} cases).")
    table = Table(show_header=False)
    table.add_row("added", str(len(result.added)))
    table.add_row("updated", str(len(result.updated)))
    table.add_row("unchanged", str(result.unchanged))
    table.add_row("not in file (kept)", str(result.not_in_file))
    console.print(table)
    for label, refs in (("Added", result.added), ("Updated", result.updated)):
        if refs:
            more = len(refs) - SHOWN_REFERENCES
            tail = f" and {more} more" if more > 0 else ""
            console.print(f"{label}: {escape(', '.join(refs[:SHOWN_REFERENCES]))}{tail}")


@app.command("list")
def list_(
    area: str | None = typer.Option(None, "--area", help="Only this area (an area id)."),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Count the register's cases by area and category."""
    from audit_core.services.register_import import case_counts

    try:
        config = STATE.app.config()
        if area is not None:
            config.area(area)  # an unknown area is a mistake, not an empty list
        with STATE.app.unit_of_work() as uow:
            counts = case_counts(uow.session, area=area)
    except AuditRoundError as exc:
        raise _fail(exc) from None
    categories = [c.id for c in config.categories]
    categories += sorted({c for by in counts.values() for c in by} - set(categories))
    areas = [a.id for a in config.board.areas if a.id in counts]
    areas += sorted(set(counts) - set(areas))
    if as_json:
        print_json(
            {
                "total": sum(sum(by.values()) for by in counts.values()),
                "areas": {
                    a: {"total": sum(counts[a].values()), "categories": dict(counts[a])}
                    for a in areas
                },
            }
        )
        return
    if not counts:
        console.print("The register is empty: import one with 'auditround cases import FILE'.")
        return
    names = {c.id: c.name for c in config.categories}
    area_names = {a.id: a.name for a in config.board.areas}
    table = Table(title="Cases in the register")
    table.add_column("Category")
    for a in areas:
        table.add_column(area_names.get(a, a), justify="right")
    if len(areas) > 1:
        table.add_column("All areas", justify="right", style="bold")
    for category in categories:
        cells = [counts[a].get(category, 0) for a in areas]
        table.add_row(
            names.get(category, category), *map(str, cells), *([str(sum(cells))] * (len(areas) > 1))
        )
    totals = [sum(counts[a].values()) for a in areas]
    table.add_section()
    table.add_row("[bold]Total[/]", *map(str, totals), *([str(sum(totals))] * (len(areas) > 1)))
    console.print(table)
