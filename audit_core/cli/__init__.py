"""The ``auditround`` command line: thin commands over ``audit_core`` use cases.

Each command group is a Typer sub-app in its own module, added here. Errors a user can cause
(:class:`~audit_core.domain.errors.AuditRoundError`) are printed as one clear
message and exit non-zero; they never show a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import OperationalError

from audit_core.cli import common
from audit_core.domain.errors import AuditRoundError

# What the CLI says when a use case names the input that would put it right.
HINTS = {
    "cases": "--cases N",
    "early": "--early",
    "area": "--area A",
    "replacement": "--in CASE",
    "reason": "--reason TEXT",
    "agency": "--agency AGENCY",
}

app = typer.Typer(
    name="auditround",
    help=(
        "Run the partnership's six-monthly multi-agency case file audits: import the "
        "case register, plan a round, launch it, fix it while it runs, and watch its email."
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
        help="Act as if it were this date or time (ISO, e.g. 2026-03-02), for rehearsals "
        "(env AUDITROUND_NOW).",
    ),
    config_dir: str | None = typer.Option(
        None,
        "--config",
        help="Configuration folder (env AUDITROUND_CONFIG; default ./config).",
    ),
    database: str | None = typer.Option(
        None,
        "--database",
        help="Database URL (env AUDITROUND_DATABASE_URL; default SQLite at ./var/auditround.db).",
        show_default=False,
    ),
    actor: str | None = typer.Option(
        None,
        "--as",
        help="Who is acting, for the audit trail (env AUDITROUND_ACTOR; default cli:<login>).",
    ),
) -> None:
    common.STATE.configure(now=now, config=config_dir, database_url=database, actor=actor)


def _register() -> None:
    from audit_core.cli import (
        actions_cmd,
        audit_cmd,
        briefing_cmd,
        cases_cmd,
        chase_cmd,
        config_cmd,
        db_cmd,
        fieldwork_cmd,  # noqa: F401 - adds its commands to round_cmd.app
        outbox_cmd,
        portal_cmd,
        privacy_cmd,
        report_cmd,
        retention_cmd,
        round_cmd,
        scheduler_cmd,
        status_cmd,
        users_cmd,
    )

    app.add_typer(config_cmd.app, name="config")
    app.add_typer(db_cmd.app, name="db")
    app.add_typer(cases_cmd.app, name="cases")
    app.add_typer(round_cmd.app, name="round")
    app.add_typer(outbox_cmd.app, name="outbox")
    app.add_typer(audit_cmd.app, name="audit")
    app.add_typer(briefing_cmd.app, name="briefing")
    app.add_typer(report_cmd.app, name="report")
    app.add_typer(actions_cmd.app, name="actions")
    app.add_typer(retention_cmd.app, name="retention")
    app.add_typer(privacy_cmd.app, name="privacy")
    app.command("chase")(chase_cmd.chase)
    app.command("scheduler")(scheduler_cmd.scheduler)
    app.add_typer(users_cmd.app, name="users")
    app.command("portal")(portal_cmd.portal)
    app.command("status")(status_cmd.status)


_register()


def main() -> None:
    """Console entry point."""
    err = Console(stderr=True)
    try:
        app()
    except AuditRoundError as exc:
        hint = f" Use {HINTS[exc.missing]}." if exc.missing in HINTS else ""
        err.print(f"[bold red]Error:[/] {exc}{hint}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except OperationalError as exc:  # one the composition root did not explain
        reason = (str(exc.orig).strip().splitlines() or ["unknown error"])[0]
        err.print(
            f"[bold red]Error:[/] the database could not be used ({escape(reason)}): "
            "check AUDITROUND_DATABASE_URL (or --database).",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(2)
