"""The launch and dispatch flows do what the command does (tested without a Prefect server)."""

from __future__ import annotations

import datetime as dt

import pytest
from mail_factory import MAIL_FROM, PUBLIC_URL, planned_round
from sqlalchemy.orm import Session

from audit_core.config import BoardConfig
from audit_core.smtp_sink import Sink
from flows.dispatch_outbox import dispatch_outbox, run_dispatch, summary_markdown
from flows.launch_round import launch_round_flow, run_launch

pytestmark = pytest.mark.database


@pytest.fixture
def smtp_env(monkeypatch: pytest.MonkeyPatch, cli_env: str, sink: Sink) -> Sink:
    for name, value in sink.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AUDITROUND_MAIL_FROM", MAIL_FROM)
    monkeypatch.setenv("AUDITROUND_PUBLIC_URL", PUBLIC_URL)
    return sink


def test_the_launch_flow_opens_the_round_and_sends_and_a_second_run_sends_nothing(
    session: Session, config: BoardConfig, now: dt.datetime, smtp_env: Sink
) -> None:
    planned_round(session, config, now)
    session.commit()

    launched, sent = run_launch("2026-H1", now="2026-03-02")
    again, sent_again = run_launch("2026-H1", now="2026-03-02T10:00")

    assert (launched.opened, launched.tasks_queued, sent.sent) == (True, 5, 8)
    assert (again.queued, sent_again.attempted) == (0, 0)
    assert smtp_env.count == 8


def test_the_dispatch_flow_reports_what_it_did(
    session: Session, config: BoardConfig, now: dt.datetime, smtp_env: Sink
) -> None:
    planned_round(session, config, now)
    session.commit()
    run_launch("2026-H1", now="2026-03-02")

    result = run_dispatch(now="2026-03-02T09:01")

    assert result.attempted == 0
    assert "| 0 | 0 | 0 | 0 |" in summary_markdown(result)
    assert launch_round_flow.name == "launch-round"
    assert dispatch_outbox.name == "dispatch-outbox"
