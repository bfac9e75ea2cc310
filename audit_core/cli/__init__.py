"""The ``auditround`` command line: thin commands over ``audit_core`` use cases.

Each command group is a Typer sub-app in its own module, added here. Errors a user can cause
(:class:`~audit_core.errors.AuditRoundError`) are printed as one clear
message and exit non-zero; they never show a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError

from audit_core.cli import common
from audit_core.errors import AuditRoundError

app = typer.Typer(
    name="auditround",
    help=(
        "Run the partnership's six-monthly multi-agency case file audits: import the "
        "case register, plan and launch a round, chase returns, and issue the briefing."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.callback()
def _global(
    now: str | None = typer.Option(
        None,
        "--now",
        envvar="AUDITROUND_NOW",
        help="Act as if it were this date or time (ISO, e.g. 2026-03-02). For rehearsals.",
    ),
    config_dir: str | None = typer.Option(
        None,
        "--config",
        envvar="AUDITROUND_CONFIG",
        help="Configuration folder [default: ./config].",
    ),
    database: str | None = typer.Option(
        None,
        "--database",
        envvar="AUDITROUND_DATABASE_URL",
        help="Database URL [default: SQLite at ./var/auditround.db].",
        show_default=False,
    ),
    actor: str | None = typer.Option(
        None, "--as", envvar="AUDITROUND_ACTOR", help="Who is acting, for the audit trail."
    ),
) -> None:
    common.STATE.configure(now=now, config_dir=config_dir, database=database, actor=actor)


def _register() -> None:
    from audit_core.cli import cases_cmd, config_cmd, db_cmd, outbox_cmd, round_cmd

    app.add_typer(config_cmd.app, name="config")
    app.add_typer(db_cmd.app, name="db")
    app.add_typer(cases_cmd.app, name="cases")
    app.add_typer(round_cmd.app, name="round")
    app.add_typer(outbox_cmd.app, name="outbox")


_register()


def main() -> None:
    """Console entry point."""
    err = Console(stderr=True)
    try:
        app()
    except AuditRoundError as exc:
        err.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except OperationalError as exc:
        err.print(
            f"[bold red]Error:[/] the database could not be used ({exc.orig}). "
            "Check AUDITROUND_DATABASE_URL and run 'auditround db upgrade'.",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(2)
