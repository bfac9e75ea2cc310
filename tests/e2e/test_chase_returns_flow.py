"""The ``chase-returns`` flow: the day's steps once, and a table of what it sent."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from support.rounds import launched_round, planned_round

from audit_core.adapters.smtp_sink import Sink
from audit_core.services.unit_of_work import UnitOfWork
from flows.chase_returns import chase_returns, chase_table, run_chase
from flows.dispatch_outbox import run_dispatch

pytestmark = pytest.mark.database


def test_the_chase_flow_sends_the_day_s_steps_once(
    uow: UnitOfWork, session: Session, smtp_env: Sink
) -> None:
    planned_round(uow)
    launched_round(uow)
    run_dispatch(now="2026-03-02T09:00")
    smtp_env.clear()

    report, sent = run_chase(now="2026-03-23T08:00")
    again, sent_again = run_chase(now="2026-03-23T12:00")

    assert len(report.reminders) == 5 and sent.sent == 6  # and the business unit's digest
    assert (len(again.reminders), sent_again.attempted) == (0, 0)
    rows = chase_table(report)
    assert {row["step"] for row in rows} == {"reminder-5"}
    assert sorted(row["case"] for row in rows) == [
        "CT-00042",
        "CT-00042",
        "HK-00123",
        "HK-00123",
        "HK-00456",
    ]
    assert chase_returns.name == "chase-returns"


def test_the_flow_publishes_the_table_of_what_it_sent(
    prefect_harness: None, uow: UnitOfWork, session: Session, smtp_env: Sink
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    planned_round(uow)
    launched_round(uow)
    run_dispatch(now="2026-03-02T09:00")

    result = chase_returns(now="2026-04-01T08:00")

    assert len(result["chase"]["escalations"]) == 5
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["chase-2026-04-01"]))
        )
    assert artifact.type == "table"
    assert "escalation-1" in str(artifact.data) and "HK-00456" in str(artifact.data)
