"""``outbox list`` shows each message's recipient, kind, state, attempts, next attempt and last
error; ``outbox status`` says when the next retry is due."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session
from support.rounds import MAIL_FROM, PUBLIC_URL, launched_round, planned_round, queue_notes
from support.scripted_smtp import ScriptedHandler

from audit_core.adapters.smtp_sink import Sink, SinkHandler
from audit_core.bootstrap import App
from audit_core.domain.errors import NotFound
from audit_core.services import outbox
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

AMARA = "amara.bello@example.org"
SARAH = "sarah.chukwuma@example.org"


@pytest.fixture
def tried(
    uow: UnitOfWork,
    session: Session,
    make_app: Callable[..., App],
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    """A launched round, dispatched once: Amara's task refused for good, Sarah's put off."""
    planned_round(uow)
    launched_round(uow)
    server = start_sink(
        ScriptedHandler(refuse={AMARA: "550 5.1.1 no such user", SARAH: "451 4.3.0 later"})
    )
    make_app(server.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL)).dispatch()
    session.expire_all()


def test_every_message_is_listed_with_its_state_attempts_and_last_error(
    tried: None, session: Session, now: dt.datetime
) -> None:
    listed = outbox.list_messages(session)

    by_recipient = {m.recipients[0]: m for m in listed if m.kind == "task"}
    assert [m.id for m in listed] == sorted(m.id for m in listed)
    amara, sarah = by_recipient[AMARA], by_recipient[SARAH]
    assert (amara.status, amara.attempts) == ("failed", 1)
    assert "550 5.1.1 no such user" in (amara.last_error or "")
    assert (sarah.status, sarah.attempts) == ("queued", 1)
    assert "451 4.3.0 later" in (sarah.last_error or "")
    assert sarah.next_attempt_at > now  # waiting for its retry
    assert by_recipient["fatima.el-amin@example.org"].status == "sent"
    assert {m.round_id for m in listed if m.kind != "alert"} == {"2026-H1"}


def test_the_list_can_be_narrowed_by_status_round_and_kind(tried: None, session: Session) -> None:
    failed = outbox.list_messages(session, status="failed")
    tasks = outbox.list_messages(session, round_id="2026-h1", kind="task")
    requests = outbox.list_messages(session, kind="nomination")

    assert [m.recipients for m in failed] == [[AMARA]]
    assert len(tasks) == 5 and {m.kind for m in tasks} == {"task"}
    assert len(requests) == 2 and {m.status for m in requests} == {"sent"}
    assert outbox.list_messages(session, kind="reminder") == []


def test_an_unknown_status_or_round_is_named(tried: None, session: Session) -> None:
    with pytest.raises(NotFound, match=r"'lost'.*queued, sending, sent, failed"):
        outbox.list_messages(session, status="lost")
    with pytest.raises(NotFound, match="2031-H2"):
        outbox.list_messages(session, round_id="2031-H2")


def test_status_says_when_the_next_retry_is_due(
    tried: None, session: Session, now: dt.datetime
) -> None:
    report = outbox.status(session, now=now)

    (sarah,) = [m for m in outbox.list_messages(session, status="queued")]
    assert report.next_retry_at == sarah.next_attempt_at
    assert report.due_now == 0
    later = outbox.status(session, now=sarah.next_attempt_at)
    assert later.due_now == 1 and later.next_retry_at is None


def test_nothing_waiting_means_no_next_retry(uow: UnitOfWork, session: Session) -> None:
    queue_notes(uow, 2)
    session.commit()
    report = outbox.status(session, now=uow.now)
    assert report.due_now == 2 and report.next_retry_at is None
