"""The ``launch-round`` flow opens a planned round, emails every auditor once, and no more."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from audit_core import smtp_sink
from audit_core.config import BoardConfig
from audit_core.models import AuditRound, RoundStatus
from audit_core.rounds import plan_round

pytestmark = pytest.mark.database


def plan_a_small_round(session: Session, config: BoardConfig, now: dt.datetime) -> int:
    """Plan round 2026-H1 over Hackney; returns the number of agency audits."""
    result = plan_round(
        session,
        config,
        period="2026-H1",
        focus_id="think-family",
        area_ids=["hackney"],
        now=now,
        actor="test",
        seed=1,
    )
    session.commit()
    return result.slots


def test_the_flow_sends_each_task_once_and_a_second_run_sends_nothing(
    prefect_harness: None,
    cli_env: str,
    session: Session,
    config: BoardConfig,
    now: dt.datetime,
    monkeypatch: pytest.MonkeyPatch,
    add_hackney_cases: Callable[[tuple[str, ...]], None],
) -> None:
    from flows.launch_round import launch_round_flow

    add_hackney_cases(("0-4", "11-15"))
    audits = plan_a_small_round(session, config, now)
    monkeypatch.setenv("AUDITROUND_MAIL_FROM", "Case Audits <audits@chscp.example.org>")
    monkeypatch.setenv("AUDITROUND_PUBLIC_URL", "https://audits.example.org")
    with smtp_sink.running() as sink:
        for key, value in sink.env().items():
            monkeypatch.setenv(key, value)
        first = launch_round_flow("2026-H1", now="2026-03-03")
        second = launch_round_flow("2026-H1", now="2026-03-03")
        received = sink.messages

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
