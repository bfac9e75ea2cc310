"""Flow ``launch-round``: open a planned round, queue its emails, and send them.

The rules live in :func:`audit_core.launch.launch_round` (what is queued) and
:func:`audit_core.outbox.dispatch` (how it is sent). Running the flow again
for the same round queues nothing new and sends nothing twice.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from audit_core import db, outbox, smtp_settings
from audit_core.clock import current_time
from audit_core.config import load_config
from audit_core.launch import LaunchResult, launch_round

ACTOR = "flow:launch-round"


def run_launch(round_id: str, now: str | None = None) -> tuple[LaunchResult, outbox.DispatchResult]:
    """Launch the round in one transaction, then dispatch the outbox."""
    settings = smtp_settings.from_env()
    settings.check_composing()
    settings.check_sending()
    config = load_config()
    when = current_time(now)
    engine = db.make_engine()
    try:
        with db.transaction(engine) as session:
            launched = launch_round(
                session,
                config,
                round_id,
                now=when,
                actor=ACTOR,
                public_url=settings.public_url,
                mail_from=settings.mail_from,
            )
        sent = outbox.dispatch(db.session_factory(engine), settings, config=config, now=when)
    finally:
        engine.dispose()
    return launched, sent


@flow(name="launch-round")
def launch_round_flow(round_id: str, now: str | None = None) -> dict[str, Any]:
    """Open ``round_id``, queue every task, nomination request and the summary, then send."""
    logger = get_run_logger()
    launched, sent = run_launch(round_id, now)
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
            ]
        ),
        key=f"launch-{round_id.lower()}",
        description=f"Launch of round {round_id}",
    )
    return {"launch": dataclasses.asdict(launched), "dispatch": dataclasses.asdict(sent)}
