"""``auditround scheduler``: run the whole schedule on this machine."""

from __future__ import annotations

import logging

import typer
from rich.console import Console

from audit_core.cli.common import STATE


def scheduler(
    once: bool = typer.Option(
        False, "--once", help="Run what is due now and exit (for cron or a systemd timer)."
    ),
) -> None:
    """Run the schedule: the outbox every minute, launches on their day, the chase on
    working days, then the follow-up of actions (times in the board's zone).

    One scheduler per database: a second one refuses to start and names the first.
    Stops cleanly on SIGTERM or Ctrl-C, once the running jobs are done."""
    from audit_core.scheduler.service import run_forever, run_once

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = STATE.app
    with app.scheduler_lock() as holder:
        Console(stderr=True).print(f"Scheduler running as {holder}.", highlight=False)
        if once:
            run_once(app.engine(), app.config())
        else:
            run_forever(app.engine(), app.config())
