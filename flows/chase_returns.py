"""Flow ``chase-returns``: the day's reminders, grouped escalations and digest, then sent.

The rules live in :mod:`audit_core.domain.chasing` and
:func:`audit_core.services.chase.sweep`; this flow runs the sweep for every open round
through the composition root and publishes a table of what it sent. Running it twice on
one day sends nothing new.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from audit_core.bootstrap import App
from audit_core.services.chase import ChaseReport

if TYPE_CHECKING:
    from audit_core.adapters.dispatcher import DispatchResult

ACTOR = "flow:chase-returns"


def run_chase(now: str | None = None) -> tuple[ChaseReport, DispatchResult]:
    """Take the steps due today in one transaction, then dispatch the outbox."""
    app = App.from_env(now=now, actor=ACTOR)
    try:
        return app.chase()
    finally:
        app.close()


def chase_table(report: ChaseReport) -> list[dict[str, Any]]:
    """One row per step taken: the return (by reference only), the step and its recipient."""
    return [
        {
            "round": c.round_id,
            "case": c.case_ref,
            "agency": c.agency_name,
            "due": c.due_on.isoformat(),
            "working days late": c.days_late,
            "step": c.step,
            "to": c.to_name,
        }
        for c in [*report.reminders, *report.escalations]
    ]


@flow(name="chase-returns")
def chase_returns(now: str | None = None) -> dict[str, Any]:
    """Remind, escalate and tell the business unit, as the cadence says for today."""
    logger = get_run_logger()
    report, sent = run_chase(now)
    if report.not_working:
        logger.info("%s is %s: nobody is chased", report.today, report.not_working)
    else:
        logger.info(
            "%s: %d reminder(s), %d escalated return(s), digest %s; sent %d, failed %d",
            report.today,
            len(report.reminders),
            len(report.escalations),
            "queued" if report.digest_sent else "not needed",
            sent.sent,
            sent.failed,
        )
    create_table_artifact(
        chase_table(report),
        key=f"chase-{report.today.isoformat()}",
        description=f"Chase steps taken on {report.today:%A %d %B %Y}",
    )
    return {"chase": report.to_json(), "dispatch": {"sent": sent.sent, "failed": sent.failed}}
