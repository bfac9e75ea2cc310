"""Launching a round opens it and queues a task per auditor, a nomination per gap, a summary."""

from __future__ import annotations

import datetime as dt

import pytest
from mail_factory import MAIL_FROM, PUBLIC_URL, planned_round
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from audit_core import audit_trail, outbox, tokens
from audit_core.config import BoardConfig
from audit_core.errors import InvalidState, MailError, NotFound
from audit_core.launch import LaunchResult, launch_round
from audit_core.models import Assignment, AuditRound, OutboxMessage, RoundStatus
from audit_core.smtp_settings import SmtpSettings
from audit_core.smtp_sink import Sink

pytestmark = pytest.mark.database


def launch(
    session: Session, config: BoardConfig, now: dt.datetime, round_id: str = "2026-H1"
) -> LaunchResult:
    result = launch_round(
        session,
        config,
        round_id,
        now=now,
        actor="alice",
        public_url=PUBLIC_URL,
        mail_from=MAIL_FROM,
    )
    session.commit()
    return result


def token_hashes(session: Session) -> list[str]:
    return sorted(h for h in session.scalars(select(Assignment.token_hash)) if h is not None)


def test_launch_opens_the_round_and_queues_a_task_per_auditor_and_a_request_per_gap(
    session: Session, config: BoardConfig, now: dt.datetime
) -> None:
    planned_round(session, config, now)
    result = launch(session, config, now)

    audit_round = session.get(AuditRound, "2026-H1")
    assert audit_round is not None
    assert audit_round.status == RoundStatus.OPEN
    assert audit_round.launched_at == now
    assert (result.tasks_queued, result.nominations_queued, result.summary_queued) == (5, 2, True)
    kinds = session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert sorted(kinds) == ["launch_summary"] + ["nomination"] * 2 + ["task"] * 5
    for assignment in session.scalars(select(Assignment)):
        if assignment.auditor_id:
            assert assignment.status == "sent"
            assert assignment.sent_at == now
        else:
            assert assignment.status == "unfilled"


def test_the_nomination_request_goes_to_the_agency_lead(
    session: Session, config: BoardConfig, now: dt.datetime
) -> None:
    planned_round(session, config, now)
    launch(session, config, now)

    requests = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "nomination"))
    leads = {a.id: a.lead.email for a in config.agencies}
    assert sorted(m.recipients[0] for m in requests) == sorted([leads["gp"], leads["housing"]])


def test_only_the_hash_of_each_link_token_is_kept(
    session: Session, config: BoardConfig, now: dt.datetime
) -> None:
    planned_round(session, config, now)
    launch(session, config, now)

    for message in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "task")):
        view = outbox.show(session, message.id)
        link = next(w for w in view.text.split() if w.startswith(f"{PUBLIC_URL}/return/"))
        token = link.rsplit("/", 1)[1]
        assignment = session.get(Assignment, message.assignment_id)
        assert assignment is not None
        assert assignment.token_hash == tokens.hash_token(token)
        assert token not in (assignment.token_hash or "")
    hashes = session.scalars(
        select(Assignment.token_hash).where(Assignment.token_hash.is_not(None))
    )
    assert len(set(hashes)) == 5


def test_launching_again_queues_nothing_and_sends_nothing(
    session: Session,
    session_factory: sessionmaker[Session],
    config: BoardConfig,
    now: dt.datetime,
    sink: Sink,
    mail_settings: SmtpSettings,
) -> None:
    planned_round(session, config, now)
    launch(session, config, now)
    outbox.dispatch(session_factory, mail_settings, config=config, now=now)
    hashes = token_hashes(session)
    events = len(audit_trail.events(session))
    assert sink.count == 8

    again = launch(session, config, now + dt.timedelta(hours=1))
    second = outbox.dispatch(
        session_factory, mail_settings, config=config, now=now + dt.timedelta(hours=1)
    )

    assert not again.opened and again.queued == 0 and again.already_queued == 8
    assert second.attempted == 0
    assert sink.count == 8
    session.expire_all()
    assert token_hashes(session) == hashes
    assert len(audit_trail.events(session)) == events
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 8


def test_a_round_past_its_launch_cannot_be_launched(
    session: Session, config: BoardConfig, now: dt.datetime
) -> None:
    planned_round(session, config, now).status = RoundStatus.MODERATION
    session.commit()
    with pytest.raises(InvalidState, match="only a planned round can be launched"):
        launch(session, config, now)


def test_an_unknown_round_is_named_in_the_error(
    session: Session, config: BoardConfig, now: dt.datetime
) -> None:
    with pytest.raises(NotFound, match="2031-H2"):
        launch(session, config, now, round_id="2031-H2")


def test_a_launch_without_a_public_address_for_links_is_refused(
    session: Session, config: BoardConfig, now: dt.datetime
) -> None:
    planned_round(session, config, now)
    session.commit()
    with pytest.raises(MailError, match="AUDITROUND_PUBLIC_URL"):
        launch_round(
            session, config, "2026-H1", now=now, actor="alice", public_url="", mail_from=MAIL_FROM
        )
    session.rollback()
    assert session.get(AuditRound, "2026-H1").status == RoundStatus.PLANNED  # type: ignore[union-attr]


def test_every_launch_step_is_in_the_audit_trail(
    session: Session, config: BoardConfig, now: dt.datetime
) -> None:
    planned_round(session, config, now)
    session.commit()
    before = len(audit_trail.events(session))
    launch(session, config, now)

    actions = [e.action for e in audit_trail.events(session)[before:]]
    assert actions.count("launched") == 1
    assert actions.count("task_sent") == 5
    assert actions.count("nomination_requested") == 2
    assert actions.count("queued") == 8
    assert {e.actor for e in audit_trail.events(session)[before:]} == {"alice"}
