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
