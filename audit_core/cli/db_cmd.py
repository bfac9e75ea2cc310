"""``auditround db``: create and upgrade the database schema."""

from __future__ import annotations

import typer

from audit_core.cli.common import STATE, console

app = typer.Typer(help="Create or upgrade the database.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Create the database if needed and apply every migration."""
    revision = STATE.app.upgrade_database()
    console.print(
        f"Database ready at [bold]{STATE.app.database_label()}[/] (schema revision {revision})."
    )


@app.command("current")
def current() -> None:
    """Show the schema revision of the database."""
    console.print(STATE.app.database_revision() or "empty (run 'auditround db upgrade')")


@app.command("grant")
def grant(
    role: str = typer.Argument(..., help="The PostgreSQL role the application connects as."),
    sql: bool = typer.Option(False, "--sql", help="Only print the SQL; change nothing."),
) -> None:
    """Give the application's PostgreSQL role what it needs and no more: read and write the
    tables, but only read and add to the audit trail (run as the owner of the tables)."""
    statements = STATE.app.grant_application_role(role, dry_run=sql)
    if sql:
        print("".join(f"{statement};\n" for statement in statements), end="")
        return
    console.print(
        f"Role [bold]{role}[/] may now use the database at "
        f"[bold]{STATE.app.database_label()}[/] ({len(statements)} statements run); "
        "it can add to the audit trail but not change it."
    )
