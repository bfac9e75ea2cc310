"""Flow ``dispatch-outbox``: send what is due in the outbox (scheduled every minute).

The rules (claiming, retries with backoff, failures told to the business
unit) live in the dispatcher, wired by :class:`audit_core.bootstrap.App`;
this flow only starts it and reports.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from audit_core.bootstrap import App

if TYPE_CHECKING:
    from audit_core.adapters.dispatcher import DispatchResult


def run_dispatch(now: str | None = None, limit: int | None = None) -> DispatchResult:
    """Send the due messages once, with the settings of the environment."""
    app = App.from_env(now=now)
    try:
        return app.dispatch(limit=limit)
    finally:
        app.close()


def summary_markdown(result: DispatchResult) -> str:
    lines = [
        "| sent | to retry | failed | partly refused |",
        "|---:|---:|---:|---:|",
        f"| {result.sent} | {result.retrying} | {result.failed} | {result.partly_refused} |",
    ]
    if result.stopped:
        lines += ["", f"**Stopped:** {result.stopped}"]
    return "\n".join(lines)


@flow(name="dispatch-outbox", log_prints=False)
def dispatch_outbox(now: str | None = None, limit: int | None = None) -> dict[str, Any]:
    """Send what is due; a failure the server calls permanent is reported to the business unit."""
    logger = get_run_logger()
    result = run_dispatch(now, limit)
    logger.info(
        "outbox: sent %d, retrying %d, failed %d", result.sent, result.retrying, result.failed
    )
    if result.stopped:
        logger.warning("outbox dispatch stopped: %s", result.stopped)
    if result.attempted:
        create_markdown_artifact(
            summary_markdown(result), key="outbox-dispatch", description="Outbox dispatch"
        )
    return dataclasses.asdict(result)
