"""Launching a round opens it and queues a task per auditor and a nomination per gap; the
summary to the business unit follows once they have been sent (test_launch_summary.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support.rounds import MAIL_FROM, PUBLIC_URL, delivered_round, launched_round, planned_round
from support.trail import events

from audit_core.adapters.settings import SmtpSettings
from audit_core.adapters.smtp_sink import Sink
from audit_core.bootstrap import App
from audit_core.domain import tokens
from audit_core.domain.errors import InvalidState, MailError, NotFound
from audit_core.domain.models import Assignment, AuditRound, OutboxMessage, RoundStatus
from audit_core.domain.policy import BoardConfig
from audit_core.services import outbox
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database


def token_hashes(session: Session) -> list[str]:
    return sorted(h for h in session.scalars(select(Assignment.token_hash)) if h is not None)


def test_launch_opens_the_round_and_queues_a_task_per_auditor_and_a_request_per_gap(
    uow: UnitOfWork, session: Session, now: dt.datetime
) -> None:
    planned_round(uow)
    result = launched_round(uow)

    audit_round = session.get(AuditRound, "2026-H1")
    assert audit_round is not None
    assert audit_round.status == RoundStatus.OPEN
    assert audit_round.launched_at == now
    assert (result.tasks_queued, result.nominations_queued, result.summary_queued) == (5, 2, False)
    kinds = session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert sorted(kinds) == ["nomination"] * 2 + ["task"] * 5  # no summary before a send
    for assignment in session.scalars(select(Assignment)):
        if assignment.auditor_id:
            assert assignment.status == "issued"  # queued, not yet delivered: nothing was sent
            assert assignment.issued_at == now
        else:
            assert assignment.status == "unfilled"


def test_the_nomination_request_goes_to_the_agency_lead(
    uow: UnitOfWork, session: Session, config: BoardConfig
) -> None:
    planned_round(uow)
    launched_round(uow)

    requests = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "nomination"))
    leads = {a.id: a.lead.email for a in config.agencies}
    assert sorted(m.recipients[0] for m in requests) == sorted([leads["gp"], leads["housing"]])


def test_only_the_hash_of_each_link_token_is_kept(uow: UnitOfWork, session: Session) -> None:
    planned_round(uow)
    launched_round(uow)

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
    uow: UnitOfWork,
    make_uow: Callable[..., UnitOfWork],
    session: Session,
    app: App,
    make_app: Callable[..., App],
    mail_settings: SmtpSettings,
    now: dt.datetime,
    sink: Sink,
) -> None:
    delivered_round(uow, app, sink)
    hashes = token_hashes(session)
    trail = len(events(session))
    assert sink.count == 8

    later = now + dt.timedelta(hours=1)
    again, second = make_app(mail_settings, at=later).launch("2026-H1")

    assert not again.opened and again.queued == 0 and again.already_queued == 8
    assert not again.summary_queued
    assert second.attempted == 0
    assert sink.count == 8
    session.expire_all()
    assert token_hashes(session) == hashes
    assert len(events(session)) == trail
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 8


def test_a_round_past_its_launch_cannot_be_launched(uow: UnitOfWork, session: Session) -> None:
    planned_round(uow).status = RoundStatus.MODERATION
    session.commit()
    with pytest.raises(InvalidState, match="only a planned round can be launched"):
        launched_round(uow)


def test_an_unknown_round_is_named_in_the_error(uow: UnitOfWork) -> None:
    with pytest.raises(NotFound, match="2031-H2"):
        launched_round(uow, round_id="2031-H2")


def test_a_launch_without_a_public_address_for_links_is_refused(
    uow: UnitOfWork, session: Session, make_app: Callable[..., App], sink: Sink
) -> None:
    planned_round(uow)
    session.commit()
    trail = len(events(session))
    no_links = SmtpSettings(
        host=sink.host, port=sink.port, security="none", mail_from=MAIL_FROM, public_url=""
    )

    with pytest.raises(MailError, match="AUDITROUND_PUBLIC_URL"):
        make_app(no_links).launch("2026-H1")

    session.expire_all()
    assert session.get(AuditRound, "2026-H1").status == RoundStatus.PLANNED  # type: ignore[union-attr]
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert token_hashes(session) == []
    assert len(events(session)) == trail
    assert sink.count == 0


def test_every_launch_step_is_in_the_audit_trail(uow: UnitOfWork, session: Session) -> None:
    planned_round(uow)
    session.commit()
    before = len(events(session))
    launched_round(uow)

    actions = [e.action for e in events(session)[before:]]
    assert actions.count("launched") == 1
    assert actions.count("task_issued") == 5
    assert actions.count("nomination_requested") == 2
    assert actions.count("queued") == 7
    assert {e.actor for e in events(session)[before:]} == {"alice"}
