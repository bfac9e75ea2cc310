"""Flow ``follow-up-actions``: the working day's follow-up of the action plan, then sent.

The rules live in :mod:`audit_core.domain.action_follow_up` and
:func:`audit_core.services.action_follow_up.follow_up`: the RAG of every open action
brought up to date, the reminders to owners and the escalations to agency leads due
today (one email a person), and on the digest's weekday the action plan's digest. This
flow runs it through the composition root, dispatches the outbox, and publishes a table
of the steps taken. Running it twice on one day sends nothing new.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from audit_core.bootstrap import App
from audit_core.services.action_follow_up import FollowUpReport

if TYPE_CHECKING:
    from audit_core.adapters.dispatcher import DispatchResult

ACTOR = "flow:follow-up-actions"


def run_follow_up(now: str | None = None) -> tuple[FollowUpReport, DispatchResult]:
    """Take the steps due today in one transaction, then dispatch the outbox."""
    app = App.from_env(now=now, actor=ACTOR)
    try:
        return app.follow_up()
    finally:
        app.close()


def follow_up_table(report: FollowUpReport) -> list[dict[str, Any]]:
    """One row per step taken: the action, its owner, the step and its recipient."""
    return [
        {
            "action": f.action_id,
            "round": f.round_id,
            "theme": f.theme_name,
            "owner": f.owner_name,
            "agency": f.agency_name,
            "due": f.due_on.isoformat(),
            "working days late": f.days_late,
            "status": f.status.replace("_", " "),
            "step": f.step,
            "to": f.to_name,
        }
        for f in report.taken
    ]


@flow(name="follow-up-actions")
def follow_up_actions(now: str | None = None) -> dict[str, Any]:
    """Remind owners, escalate late actions and send the weekly digest, as the cadence says."""
    logger = get_run_logger()
    report, sent = run_follow_up(now)
    if report.not_working:
        logger.info("%s is %s: no action is followed up", report.today, report.not_working)
    else:
        logger.info(
            "%s: %d reminder(s), %d escalation(s), digest %s, %d RAG change(s); sent %d, failed %d",
            report.today,
            len(report.reminders),
            len(report.escalations),
            "queued" if report.digest_sent else "not due",
            report.rag_changed,
            sent.sent,
            sent.failed,
        )
    create_table_artifact(
        follow_up_table(report),
        key=f"follow-up-actions-{report.today.isoformat()}",
        description=f"Follow-up steps of the action plan taken on {report.today:%A %d %B %Y}",
    )
    return {
        "follow_up": report.to_json(),
        "dispatch": {"sent": sent.sent, "failed": sent.failed},
    }
