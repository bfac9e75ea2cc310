"""The ``plan-round`` flow plans through audit_core and publishes the plan as a table."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_core.domain.models import AuditRound, RoundCase

pytestmark = pytest.mark.database


def test_the_flow_plans_the_round_and_publishes_the_plan(
    prefect_harness: None,
    cli_env: str,
    session: Session,
    add_hackney_cases: Callable[[tuple[str, ...]], None],
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.plan_round import plan_round_flow

    add_hackney_cases(("0-4", "5-10", "11-15"))
    session.commit()

    summary = plan_round_flow(
        period="2026-H1", focus="think-family", areas=["hackney"], seed=3, now="2026-03-02"
    )

    assert summary["round"] == "2026-H1"
    assert (summary["cases"], summary["slots"]) == (3, 9)
    assert summary["warnings"] == [
        "Area hackney: only 3 eligible cases for the 5 asked, so 3 planned."
    ]
    assert {"date": "2026-03-31", "weekday": "Tuesday", "what": "returns due"} in summary[
        "timeline"
    ]
    session.expire_all()
    audit_round = session.get(AuditRound, "2026-H1")
    assert audit_round is not None and audit_round.planned_by == "flow:plan-round"
    assert len(session.scalars(select(RoundCase)).all()) == 3

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["round-plan-2026-h1"]))
        )
    assert len(artifacts) == 1
    assert artifacts[0].type == "table"
    assert "HK-0" in str(artifacts[0].data)
