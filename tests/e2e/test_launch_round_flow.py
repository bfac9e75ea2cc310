"""The ``launch-round`` flow opens a planned round, emails every auditor once, and no more;
the ``dispatch-outbox`` flow reports what it sent.

The first two tests call what the flows run (no Prefect server); the last runs
the flow itself against the session's Prefect test server.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session
from support.rounds import planned_round

from audit_core.adapters.smtp_sink import Sink
from audit_core.domain.models import AuditRound, RoundStatus
from audit_core.services.planning import plan_round
from audit_core.services.unit_of_work import UnitOfWork
from flows.dispatch_outbox import dispatch_outbox, run_dispatch, summary_markdown
from flows.launch_round import launch_round_flow, run_launch

pytestmark = pytest.mark.database


def plan_a_small_round(uow: UnitOfWork) -> int:
    """Plan round 2026-H1 over Hackney with the planner; returns the number of agency audits."""
    result = plan_round(
        uow, period="2026-H1", focus_id="think-family", area_ids=["hackney"], seed=1
    )
    uow.session.commit()
    return result.slots


def test_the_launch_flow_opens_the_round_and_sends_and_a_second_run_sends_nothing(
    uow: UnitOfWork, session: Session, smtp_env: Sink
) -> None:
    planned_round(uow)
    session.commit()

    launched, sent = run_launch("2026-H1", now="2026-03-02")
    again, sent_again = run_launch("2026-H1", now="2026-03-02T10:00")

    assert (launched.opened, launched.tasks_queued, sent.sent) == (True, 5, 8)
    assert (again.queued, sent_again.attempted) == (0, 0)
    assert smtp_env.count == 8


def test_the_dispatch_flow_reports_what_it_did(
    uow: UnitOfWork, session: Session, smtp_env: Sink
) -> None:
    planned_round(uow)
    session.commit()
    run_launch("2026-H1", now="2026-03-02")

    result = run_dispatch(now="2026-03-02T09:01")

    assert result.attempted == 0
    assert "| 0 | 0 | 0 | 0 |" in summary_markdown(result)
    assert launch_round_flow.name == "launch-round"
    assert dispatch_outbox.name == "dispatch-outbox"


def test_the_flow_sends_each_task_once_and_a_second_run_sends_nothing(
    prefect_harness: None,
    make_uow: Callable[..., UnitOfWork],
    session: Session,
    smtp_env: Sink,
    add_hackney_cases: Callable[[tuple[str, ...]], None],
) -> None:
    add_hackney_cases(("0-4", "11-15"))
    audits = plan_a_small_round(make_uow(actor="test"))

    first = launch_round_flow("2026-H1", now="2026-03-03")
    second = launch_round_flow("2026-H1", now="2026-03-03")
    received = smtp_env.messages

    assert first["launch"]["tasks_queued"] == audits
    assert first["dispatch"]["sent"] == audits + 1  # and the summary to the business unit
    assert second["launch"]["tasks_queued"] == 0
    assert second["dispatch"]["sent"] == 0
    assert len(received) == audits + 1
    assert len({m.message_id for m in received}) == len(received)
    session.expire_all()
    audit_round = session.get(AuditRound, "2026-H1")
    assert audit_round is not None and audit_round.status == RoundStatus.OPEN

    texts = launch_artifacts(expected=2)
    assert len(texts) == 2
    assert any(f"- tasks queued: {audits}\n" in text for text in texts)
    assert any(f"- already in the outbox: {audits + 1}\n" in text for text in texts)


def launch_artifacts(expected: int) -> list[str]:
    """The launch artifacts' texts, one per run; the server may take a moment to list them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    texts: list[str] = []
    for _ in range(50):
        with get_client(sync_client=True) as client:
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["launch-2026-h1"]))
            )
        texts = sorted(str(artifact.data) for artifact in artifacts)
        if len(texts) >= expected:
            break
        time.sleep(0.2)
    return texts
