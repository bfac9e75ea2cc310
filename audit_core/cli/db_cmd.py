"""``auditround db``: create and upgrade the database schema."""

from __future__ import annotations

import typer

from audit_core import db
from audit_core.cli.common import STATE, console

app = typer.Typer(help="Create or upgrade the database.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Create the database if needed and apply every migration."""
    engine = STATE.engine(migrated=False)
    db.upgrade(engine)
    console.print(
        f"Database ready at [bold]{engine.url.render_as_string(hide_password=True)}[/] "
        f"(schema revision {db.current_revision(engine)})."
    )


@app.command("current")
def current() -> None:
    """Show the schema revision of the database."""
    engine = STATE.engine(migrated=False)
    console.print(db.current_revision(engine) or "empty (run 'auditround db upgrade')")
