"""The ``auditround`` command line: thin commands over ``audit_core`` use cases.

Each command module registers a Typer sub-app here. Errors a user can cause
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


COMMAND_GROUPS = ("config", "db", "cases", "round", "outbox")


def _register() -> None:
    import importlib

    for name in COMMAND_GROUPS:
        module_name = f"audit_core.cli.{name}_cmd"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # a command group not installed in this build
            if exc.name != module_name:
                raise
            continue
        app.add_typer(module.app, name=name)


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
