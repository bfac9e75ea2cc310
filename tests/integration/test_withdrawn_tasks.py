"""A task whose link was retired before it went out is withdrawn: it never arrives."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.rounds import launched_round, planned_round

from audit_core.adapters.smtp_sink import Sink
from audit_core.bootstrap import App
from audit_core.domain.errors import InvalidState
from audit_core.domain.models import OutboxMessage, OutboxStatus
from audit_core.services import fieldwork, outbox
from audit_core.services.round_cancel import cancel_round
from audit_core.services.round_changes import reassign
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

AMARA, TOMASZ = "amara.bello@example.org", "tomasz.wierzbicki@example.org"


def status_of(session: Session, dedupe_key: str) -> str:
    session.expire_all()
    return session.scalars(
        select(OutboxMessage.status).where(OutboxMessage.dedupe_key == dedupe_key)
    ).one()


def received_by(sink: Sink, address: str) -> list[str]:
    return [str(m.parsed()["Subject"]) for m in sink.messages if address in m.rcpt_tos]


def reassigned_before_it_was_sent(uow: UnitOfWork) -> str:
    """The round launched with its tasks queued, not yet sent (the mail server was down,
    say), then Amara's audit of HK-00123 handed to Tomasz; the key of her task. Committed."""
    audit_round = planned_round(uow)
    launched_round(uow)
    amara = next(
        a for rc in audit_round.cases for a in rc.assignments if a.auditor_id == "amara-bello"
    )
    first_key = amara.task_key  # the audit's task key changes as it changes hands
    reassign(
        uow,
        round_id="2026-H1",
        case_ref="HK-00123",
        agency_id="hackney-csc",
        auditor_id="tomasz-wierzbicki",
    )
    uow.session.commit()
    return first_key


def test_a_task_reassigned_before_it_was_sent_never_reaches_the_first_auditor(
    uow: UnitOfWork, session: Session, app: App, sink: Sink
) -> None:
    first_key = reassigned_before_it_was_sent(uow)
    app.dispatch()

    assert status_of(session, first_key) == OutboxStatus.WITHDRAWN
    assert not [
        s
        for s in received_by(sink, AMARA)
        if "HK-00123" in s and "audit" in s.lower() and "no longer" not in s.lower()
    ]
    assert any("HK-00123" in s for s in received_by(sink, TOMASZ))


def test_a_declined_task_still_waiting_is_withdrawn(
    uow: UnitOfWork, session: Session, app: App
) -> None:
    audit_round = planned_round(uow)
    launched_round(uow)
    amara = next(
        a for rc in audit_round.cases for a in rc.assignments if a.auditor_id == "amara-bello"
    )
    key = amara.task_key

    fieldwork.decline(
        uow,
        round_id="2026-H1",
        case_ref="HK-00123",
        agency_id="hackney-csc",
        reason="I worked on this case",
    )
    uow.session.commit()

    assert status_of(session, key) == OutboxStatus.WITHDRAWN


def test_cancelling_a_round_withdraws_what_has_not_gone_out_and_tells_no_one_of_it(
    uow: UnitOfWork, session: Session, app: App, sink: Sink
) -> None:
    planned_round(uow)
    launched_round(uow)  # every task still queued

    cancel_round(uow, "2026-H1", "The focus was changed by the QA subgroup")
    uow.session.commit()
    app.dispatch()

    session.expire_all()
    kinds = dict(
        session.execute(
            select(OutboxMessage.dedupe_key, OutboxMessage.status).where(
                OutboxMessage.kind.in_(["task", "nomination"])
            )
        )
        .tuples()
        .all()
    )
    assert kinds and set(kinds.values()) == {OutboxStatus.WITHDRAWN}
    assert received_by(sink, AMARA) == []  # neither a dead task nor news of a round she never saw


def test_a_withdrawn_task_cannot_be_queued_again_by_a_retry(
    uow: UnitOfWork, session: Session, app: App, sink: Sink
) -> None:
    first_key = reassigned_before_it_was_sent(uow)
    [withdrawn] = session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == first_key)
    )

    with pytest.raises(InvalidState, match="was withdrawn: the link it carries was retired"):
        outbox.retry(uow, withdrawn.id)
    uow.session.commit()
    app.dispatch()

    assert status_of(session, first_key) == OutboxStatus.WITHDRAWN
    assert not [s for s in received_by(sink, AMARA) if s.startswith("Case audit")]
