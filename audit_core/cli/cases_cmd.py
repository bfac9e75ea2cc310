"""``auditround cases``: import the case register and see what it holds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from audit_core.cli.common import STATE, console, plural, print_json
from audit_core.domain.errors import AuditRoundError, ImportRejected

if TYPE_CHECKING:
    from audit_core.domain.policy import BoardConfig
    from audit_core.services.register_view import RegisterView

app = typer.Typer(
    help="Import the case register, list its cases and count them.", no_args_is_help=True
)
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
    category: str | None = typer.Option(None, "--category", help="Only this category."),
    flag: str | None = typer.Option(None, "--flag", help="Only cases carrying this flag."),
    agency: str | None = typer.Option(None, "--agency", help="Only cases this agency is in."),
    limit: int = typer.Option(50, "--limit", min=0, help="List at most this many (0: all)."),
    count: bool = typer.Option(False, "--count", help="Only count them, by area and category."),
    as_json: bool = typer.Option(False, "--json", help="Print the cases and counts as JSON."),
) -> None:
    """List the register's cases (filtered), and count them by area and category."""
    from audit_core.services.register_view import CaseFilter, view_register

    try:
        config = STATE.app.config()
        for kind, value in (("area", area), ("agency", agency)):
            if value is not None:  # an unknown id is a mistake, not an empty list
                getattr(config, kind)(value)
        if category is not None and category not in {c.id for c in config.categories}:
            known = ", ".join(c.id for c in config.categories)
            raise AuditRoundError(f"There is no category '{category}' (known: {known}).")
        if flag is not None and flag not in {f.id for f in config.flags}:
            raise AuditRoundError(
                f"There is no flag '{flag}' (known: {', '.join(f.id for f in config.flags)})."
            )
        which = CaseFilter(area=area, category=category, flag=flag, agency=agency)
        with STATE.app.unit_of_work() as uow:
            view = view_register(uow.session, which, limit=None if count or limit == 0 else limit)
    except AuditRoundError as exc:
        raise _fail(exc) from None
    if as_json:
        _print_json(config, view, count)
        return
    if not view.total:
        filtered = any(v is not None for v in (area, category, flag, agency))
        console.print(
            "No case matches."
            if filtered
            else "The register is empty: import one with 'auditround cases import FILE'."
        )
        return
    if not count:
        _print_cases(view)
    console.print(_counts_table(config, view.counts))


def _print_json(config: BoardConfig, view: RegisterView, count: bool) -> None:
    data: dict[str, object] = {
        "total": view.total,
        "areas": {
            a: {"total": sum(view.counts[a].values()), "categories": dict(view.counts[a])}
            for a in _areas(config, view.counts)
        },
    }
    if not count:
        data["cases"] = [
            {
                "reference": c.reference,
                "area": c.area_id,
                "category": c.category,
                "age_band": c.age_band,
                "flags": list(c.flags),
                "agencies": list(c.agencies),
                "last_activity_on": c.last_activity_on,
                "last_audited_on": c.last_audited_on,
                "rounds": list(c.rounds),
            }
            for c in view.cases
        ]
    print_json(data)


def _print_cases(view: RegisterView) -> None:
    table = Table(title=f"{plural(view.total, 'case')} in the register", box=None, pad_edge=False)
    table.add_column("case", no_wrap=True)
    table.add_column("area", no_wrap=True)
    table.add_column("category", no_wrap=True)
    table.add_column("age", no_wrap=True)
    table.add_column("active", no_wrap=True)
    table.add_column("audited", no_wrap=True)
    table.add_column("flags")
    for c in view.cases:
        table.add_row(
            escape(c.reference),
            c.area_id,
            c.category,
            c.age_band,
            f"{c.last_activity_on:%d/%m/%Y}",
            " ".join(
                filter(
                    None, (f"{c.last_audited_on:%d/%m/%Y}" if c.last_audited_on else "", *c.rounds)
                )
            ),
            ", ".join(c.flags),
        )
    console.print(table)
    if view.total > len(view.cases):
        console.print(
            f"... and {view.total - len(view.cases)} more (use --limit 0 to list them all)."
        )


def _areas(config: BoardConfig, counts: dict[str, Counter[str]]) -> list[str]:
    areas = [a.id for a in config.board.areas if a.id in counts]
    return areas + sorted(set(counts) - set(areas))


def _counts_table(config: BoardConfig, counts: dict[str, Counter[str]]) -> Table:
    """Cases by category (rows) and area (columns), with totals."""
    categories = [c.id for c in config.categories]
    categories += sorted({c for by in counts.values() for c in by} - set(categories))
    areas = _areas(config, counts)
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
    return table
