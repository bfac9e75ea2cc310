"""Flow ``purge-expired-returns``: the daily retention purge, and a table of what went.

The rules live in :mod:`audit_core.domain.retention` and
:func:`audit_core.services.retention.purge_expired`: the free text of the returns of
every round closed (or cancelled) longer ago than ``board.retention.returns_months``,
and the stored content of its emails, purged in one transaction; the figures, the
briefings and the action record kept; one audit event per round, with counts. This flow
runs it through the composition root and publishes a table with a row per round purged
(counts only: never a word of what went). Running it again purges nothing more.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from audit_core.bootstrap import App
from audit_core.domain.retention import PurgeReport
from audit_core.services.retention import purge_expired

ACTOR = "flow:purge-expired-returns"


def run_purge(now: str | None = None, *, dry_run: bool = False) -> PurgeReport:
    """Purge what is past its retention, in one transaction (with ``dry_run``: say what
    would go, write nothing)."""
    app = App.from_env(now=now, actor=ACTOR)
    try:
        with app.unit_of_work() as uow:
            return purge_expired(uow, dry_run=dry_run)
    finally:
        app.close()


def purge_table(report: PurgeReport) -> list[dict[str, Any]]:
    """One row per round purged: when it ended, from when it was due, and the counts."""
    return [
        {
            "round": r.round_id,
            "ended": f"{r.ended_on.isoformat()} ({r.status})",
            "due from": r.due_from.isoformat(),
            "returns": r.returns,
            "free-text answers": r.texts,
            "concerns": r.concerns,
            "decline reasons": r.declines,
            "findings kept back": r.findings,
            "key findings": r.case_notes,
            "emails": r.messages,
        }
        for r in report.purged
    ]


@flow(name="purge-expired-returns")
def purge_expired_returns(now: str | None = None, dry_run: bool = False) -> dict[str, Any]:
    """Purge the returns of the rounds past their retention, keeping the figures."""
    logger = get_run_logger()
    report = run_purge(now, dry_run=dry_run)
    totals = report.totals()
    verb = "would purge" if dry_run else "purged"
    logger.info(
        "%s: %s %d round(s): %d return(s), %d email(s); %d ended round(s) still kept",
        report.today,
        verb,
        len(report.purged),
        totals["returns"],
        totals["messages"],
        len(report.waiting),
    )
    create_table_artifact(
        purge_table(report),
        key=f"purge-expired-returns-{report.today.isoformat()}",
        description=(
            f"Returns past their retention ({report.months} months) "
            f"{'to purge' if dry_run else 'purged'} on {report.today:%A %d %B %Y}"
        ),
    )
    return report.to_json()
