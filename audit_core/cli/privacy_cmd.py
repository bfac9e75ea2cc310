"""``auditround privacy subject-access``: everything held about one case or one person.

``auditround privacy subject-access (--case REF [--area A] | --person ID_OR_EMAIL)
[--json] [--out FILE]`` prints the listing part by part (or as JSON), or writes it as JSON
to FILE (readable by its owner only) to hand over. The use case is
:mod:`audit_core.services.subject_access`; each listing is kept in the audit trail.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from audit_core.cli.common import STATE, console, print_json
from audit_core.domain.errors import AuditRoundError

if TYPE_CHECKING:
    from audit_core.domain.subject_access import Listing, Part

app = typer.Typer(
    help="Data protection: answer a subject access request about a case or a person.",
    no_args_is_help=True,
)


@app.command("subject-access")
def subject_access(
    case: str | None = typer.Option(None, "--case", metavar="REF", help="A case reference."),
    area: str | None = typer.Option(
        None, "--area", help="The case's area, if its reference is used in more than one."
    ),
    person: str | None = typer.Option(
        None,
        "--person",
        metavar="ID_OR_EMAIL",
        help="A person: their id (people.yaml, or a dashboard user's) or any email address.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the listing as JSON."),
    out: Path | None = typer.Option(
        None, "--out", metavar="FILE", help="Write the listing as JSON to FILE instead."
    ),
) -> None:
    """List everything auditround holds about one case reference or one person: the
    register's row, audits, returns (every word), the audit day's record, actions, the
    emails sent and the audit events. Reading it is kept in the audit trail."""
    from audit_core.services.subject_access import subject_access as listing_of

    if (case is None) == (person is None):
        raise typer.BadParameter("give either --case REF or --person ID_OR_EMAIL")
    if area is not None and case is None:
        raise typer.BadParameter("--area goes with --case")
    with STATE.app.unit_of_work() as uow:
        listing = listing_of(uow, case=case, area_id=area, person=person)
        if out is not None:  # written before the reading is committed: both or neither
            _write(out, listing.to_json())
    if out is not None:
        _print_counts(listing)
        console.print(f"Wrote {escape(str(out))}", highlight=False, soft_wrap=True)
    elif as_json:
        print_json(listing.to_json())
    else:
        _print_listing(listing)


def _write(path: Path, data: dict[str, Any]) -> None:
    """The listing, whole or not at all, readable by its owner only."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, default=str)
            handle.write("\n")
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise AuditRoundError(
            f"The listing could not be written to {path} ({exc.strerror or exc}); "
            "nothing was recorded."
        ) from None


def _heading(listing: Listing) -> str:
    what = "case" if listing.kind == "case" else "person"
    return f"[bold]Everything held about {what} {escape(listing.subject)}[/]"


def _print_counts(listing: Listing) -> None:
    console.print(_heading(listing), highlight=False)
    for part in listing.parts:
        console.print(f"  {escape(part.title)}: {len(part.rows)}", highlight=False)


def _print_listing(listing: Listing) -> None:
    console.print(_heading(listing), highlight=False)
    for part in listing.parts:
        console.print()
        console.print(f"[bold]{escape(part.title)}[/] ({len(part.rows)})", highlight=False)
        if part.note:
            console.print(escape(part.note), highlight=False, soft_wrap=True)
        if not part.rows:
            console.print("  none", highlight=False)
        elif part.key == "events":
            console.print(_events_table(part))
        else:
            for n, row in enumerate(part.rows):
                if n:
                    console.print()
                console.print(_row_table(row))


def _row_table(row: dict[str, Any]) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 1, 0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in row.items():
        table.add_row(key.replace("_", " "), escape(_shown(value)))
    return table


def _events_table(part: Part) -> Table:
    table = Table(title_justify="left")
    for column in ("seq", "at", "actor", "action", "object", "details"):
        table.add_column(column, overflow="fold")
    for row in part.rows:
        table.add_row(
            str(row["seq"]),
            str(row["at"]),
            escape(str(row["actor"])),
            str(row["action"]),
            escape(str(row["object"])),
            escape(json.dumps(row["details"], ensure_ascii=False, default=str)),
        )
    return table


def _shown(value: Any) -> str:
    """A value as a reader takes it in: a mapping one entry a line, a list of mappings one
    item a line, empty answers left out."""
    if value is None or value in ("", [], {}):
        return "-"
    if isinstance(value, dict):
        lines = [f"{k.replace('_', ' ')}: {_inline(v)}" for k, v in value.items() if _filled(v)]
        return "\n".join(lines) or "-"
    if isinstance(value, list):
        return "\n".join(_inline(v) for v in value)
    return str(value)


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        shown = [f"{k.replace('_', ' ')}: {_inline(v)}" for k, v in value.items() if _filled(v)]
        return "; ".join(shown) or "-"
    if isinstance(value, list):
        return ", ".join(_inline(v) for v in value) or "-"
    return str(value)


def _filled(value: Any) -> bool:
    return value not in (None, "", [], {})
