"""Flow ``launch-round``: open a planned round, queue its emails, and send them.

The rules live in :func:`audit_core.services.launch.launch_round` (what is
queued) and the dispatcher (how it is sent); :meth:`audit_core.bootstrap.App.launch`
runs one after the other. Running the flow again
for the same round queues nothing new and sends nothing twice.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from audit_core.bootstrap import App
from audit_core.services.launch import LaunchResult

if TYPE_CHECKING:
    from audit_core.adapters.dispatcher import DispatchResult

ACTOR = "flow:launch-round"


def run_launch(
    round_id: str, now: str | None = None, *, early: bool = False
) -> tuple[LaunchResult, DispatchResult]:
    """Launch the round in one transaction, then dispatch the outbox."""
    app = App.from_env(now=now, actor=ACTOR)
    try:
        return app.launch(round_id, early=early)
    finally:
        app.close()


@flow(name="launch-round")
def launch_round_flow(round_id: str, now: str | None = None, early: bool = False) -> dict[str, Any]:
    """Open ``round_id``, queue every task and nomination request, send them, then send the
    business unit the summary of what was delivered."""
    logger = get_run_logger()
    launched, sent = run_launch(round_id, now, early=early)  # early: before its planned day
    logger.info(
        "round %s: %d task(s), %d nomination request(s) queued (%d already queued); "
        "sent %d, retrying %d, failed %d",
        round_id,
        launched.tasks_queued,
        launched.nominations_queued,
        launched.already_queued,
        sent.sent,
        sent.retrying,
        sent.failed,
    )
    create_markdown_artifact(
        "\n".join(
            [
                f"# Round {round_id} launched" if launched.opened else f"# Round {round_id}",
                "",
                f"- tasks queued: {launched.tasks_queued}",
                f"- nomination requests queued: {launched.nominations_queued}",
                f"- already in the outbox: {launched.already_queued}",
                f"- sent: {sent.sent}, to retry: {sent.retrying}, failed: {sent.failed}",
                f"- launch summary: {_summary_line(launched)}",
            ]
        ),
        key=f"launch-{round_id.lower()}",
        description=f"Launch of round {round_id}",
    )
    return {"launch": dataclasses.asdict(launched), "dispatch": dataclasses.asdict(sent)}


def _summary_line(launched: LaunchResult) -> str:
    """What the business unit's summary reported (it is queued after the first dispatch)."""
    if launched.summary_deferred:
        return f"waits ({launched.summary_deferred}); run the flow again to send it"
    if launched.summary is None or not launched.summary.queued:
        return "sent by an earlier run"
    t = launched.summary.tasks
    return f"tasks {t.delivered} delivered, {t.failed} not delivered, {t.waiting} waiting"


@flow(name="launch-rounds")
def launch_due_rounds(now: str | None = None) -> list[dict[str, Any]]:
    """Launch every planned round whose launch moment has come (its day at the cadence's
    ``launch_time``), and finish any launch whose summary still waits."""
    logger = get_run_logger()
    app = App.from_env(now=now, actor=ACTOR)
    try:
        launched = app.launch_due_rounds()
    finally:
        app.close()
    for round_id, result, sent in launched:
        logger.info(
            "round %s: %d task(s) queued, sent %d", round_id, result.tasks_queued, sent.sent
        )
    if not launched:
        logger.info("no round to launch")
    return [
        {"round": round_id, "launch": dataclasses.asdict(result), "sent": sent.sent}
        for round_id, result, sent in launched
    ]
