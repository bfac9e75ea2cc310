"""Dispatching: sent once, retried later on a temporary refusal, stopped on a permanent one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.rounds import MAIL_FROM, PUBLIC_URL, queue_notes
from support.scripted_smtp import ScriptedHandler

from audit_core.adapters.settings import SmtpSettings
from audit_core.adapters.smtp_sink import Sink, SinkHandler, free_port
from audit_core.bootstrap import App
from audit_core.domain.errors import InvalidState
from audit_core.domain.models import AuditEvent, OutboxMessage
from audit_core.domain.policy import BoardConfig
from audit_core.services import outbox
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

StartSink = Callable[[SinkHandler], Sink]
MakeApp = Callable[..., App]
MakeUow = Callable[..., UnitOfWork]
MINUTE = dt.timedelta(minutes=1)


def settings_for(sink: Sink) -> SmtpSettings:
    return sink.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL)


def fresh(session: Session, message: outbox.Queued) -> OutboxMessage:
    """The message's row as the dispatcher left it (it writes over its own connection)."""
    row = session.get(OutboxMessage, message.id, populate_existing=True)
    assert row is not None
    return row


def events(session: Session) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_dispatch_sends_each_due_message_once_and_marks_it_sent(
    session: Session, uow: UnitOfWork, app: App, now: dt.datetime, sink: Sink
) -> None:
    messages = queue_notes(uow, 5)
    session.commit()

    first = app.dispatch(worker="w1")
    second = app.dispatch(worker="w1")

    assert (first.sent, second.attempted) == (5, 0)
    assert sorted(r.message_id for r in sink.messages) == sorted(m.message_id for m in messages)
    for message in messages:
        row = fresh(session, message)
        assert (row.status, row.attempts, row.sent_at, row.claimed_by) == ("sent", 1, now, "w1")


def test_a_message_not_yet_due_waits(
    session: Session, make_uow: MakeUow, app: App, now: dt.datetime, sink: Sink
) -> None:
    queue_notes(make_uow(at=now + dt.timedelta(hours=1)), 2)
    session.commit()
    result = app.dispatch()
    assert result.attempted == 0 and sink.count == 0


def test_the_limit_caps_how_many_are_sent(
    session: Session, uow: UnitOfWork, app: App, sink: Sink
) -> None:
    queue_notes(uow, 5)
    session.commit()
    result = app.dispatch(limit=2)
    assert result.sent == 2 and sink.count == 2


def test_a_temporary_refusal_is_retried_later_with_a_doubling_wait(
    session: Session,
    uow: UnitOfWork,
    make_app: MakeApp,
    config: BoardConfig,
    now: dt.datetime,
    start_sink: StartSink,
) -> None:
    (message,) = queue_notes(uow, 1)
    session.commit()
    later = ["451 4.3.0 mailbox busy"] * 3
    server = start_sink(ScriptedHandler({message.message_id: later}))
    base = config.board.outbox.backoff_base_seconds

    when = now
    waits = []
    for _ in range(3):
        result = make_app(settings_for(server), at=when).dispatch()
        assert result.retrying == 1
        row = fresh(session, message)
        assert row.status == "queued" and "451 4.3.0 mailbox busy" in (row.last_error or "")
        waits.append((row.next_attempt_at - when).total_seconds())
        when = row.next_attempt_at
    assert make_app(settings_for(server), at=when).dispatch().sent == 1

    assert waits == [base, base * 2, base * 4]
    assert fresh(session, message).attempts == 4
    assert server.count == 1


def test_after_the_last_attempt_the_message_fails_and_the_business_unit_is_told(
    session: Session,
    uow: UnitOfWork,
    make_app: MakeApp,
    config: BoardConfig,
    now: dt.datetime,
    start_sink: StartSink,
) -> None:
    (message,) = queue_notes(uow, 1)
    session.commit()
    attempts = config.board.outbox.max_attempts
    server = start_sink(ScriptedHandler({message.message_id: ["421 4.3.2 shutting down"] * 50}))

    when = now
    for _ in range(attempts + 3):
        make_app(settings_for(server), at=when).dispatch()
        when += dt.timedelta(seconds=config.board.outbox.backoff_max_seconds)

    row = fresh(session, message)
    assert row.status == "failed" and row.attempts == attempts
    assert (row.last_error or "").startswith(f"gave up after {attempts} attempts")
    (alert,) = [r for r in server.messages if r.rcpt_tos == (config.board.business_unit.email,)]
    assert f"Message:     {message.id}" in alert.parsed().get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_a_permanent_refusal_fails_at_once_tells_the_business_unit_and_is_not_retried(
    session: Session,
    uow: UnitOfWork,
    make_app: MakeApp,
    config: BoardConfig,
    now: dt.datetime,
    start_sink: StartSink,
) -> None:
    refused, fine = queue_notes(uow, 2)
    session.commit()
    handler = ScriptedHandler({refused.message_id: ["550 5.7.1 mailbox unavailable"] * 50})
    server = start_sink(handler)

    first = make_app(settings_for(server), at=now).dispatch()
    for hours in range(1, 6):
        make_app(settings_for(server), at=now + dt.timedelta(hours=hours)).dispatch()

    assert (first.sent, first.failed, first.alerts_queued) == (
        2,
        1,
        1,
    )  # the fine one and the alert
    row = fresh(session, refused)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "550 5.7.1 mailbox unavailable" in (row.last_error or "")
    assert handler.attempts[refused.message_id] == 1  # no retry storm
    assert fresh(session, fine).status == "sent"
    alerts = [r for r in server.messages if r.rcpt_tos == (config.board.business_unit.email,)]
    assert len(alerts) == 1
    assert alerts[0].parsed()["Subject"] == f"Email not delivered: {row.subject}"
    failed_events = [e for e in events(session) if e.action == "failed"]
    assert [(e.object_id, e.details["code"]) for e in failed_events] == [(str(refused.id), 550)]


def test_an_undeliverable_alert_does_not_raise_another_alert(
    session: Session,
    uow: UnitOfWork,
    make_app: MakeApp,
    config: BoardConfig,
    start_sink: StartSink,
) -> None:
    (message,) = queue_notes(uow, 1)
    session.commit()
    handler = ScriptedHandler(refuse={config.board.business_unit.email: "550 5.1.1 no such user"})
    handler.script[message.message_id] = ["554 5.7.1 rejected"]
    server = start_sink(handler)

    result = make_app(settings_for(server)).dispatch()

    assert result.failed == 2 and result.alerts_queued == 1
    kinds = session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert kinds == ["note", "alert"]
    assert server.count == 0


def test_a_partly_refused_recipient_list_is_recorded(
    session: Session,
    uow: UnitOfWork,
    make_app: MakeApp,
    now: dt.datetime,
    start_sink: StartSink,
) -> None:
    (message,) = queue_notes(uow, 1, to=("amara.bello@example.org", "gone.away@example.org"))
    session.commit()
    server = start_sink(ScriptedHandler(refuse={"gone.away@example.org": "550 5.1.1 no such user"}))

    result = make_app(settings_for(server)).dispatch()

    assert (result.sent, result.partly_refused) == (1, 1)
    row = fresh(session, message)
    assert row.status == "sent"
    assert row.refused_recipients == {"gone.away@example.org": "550 5.1.1 no such user"}
    assert server.messages[0].rcpt_tos == ("amara.bello@example.org",)
    report = outbox.status(session, now=now)
    assert [s.id for s in report.partly_refused] == [message.id]


def test_when_the_server_cannot_be_reached_the_run_stops_and_the_mail_waits(
    session: Session, uow: UnitOfWork, make_app: MakeApp
) -> None:
    messages = queue_notes(uow, 3)
    session.commit()
    nowhere = SmtpSettings(host="127.0.0.1", port=free_port(), security="none", mail_from=MAIL_FROM)

    result = make_app(nowhere).dispatch()

    assert result.retrying == 1 and result.sent == 0
    assert result.stopped and "cannot connect to the mail server" in result.stopped
    assert [fresh(session, m).attempts for m in messages] == [1, 0, 0]
    assert all(fresh(session, m).status == "queued" for m in messages)


def test_a_failed_message_can_be_queued_again_but_a_sent_one_cannot(
    session: Session,
    uow: UnitOfWork,
    make_uow: MakeUow,
    make_app: MakeApp,
    now: dt.datetime,
    start_sink: StartSink,
) -> None:
    refused, fine = queue_notes(uow, 2)
    session.commit()
    server = start_sink(ScriptedHandler({refused.message_id: ["550 5.1.1 no such user"]}))
    make_app(settings_for(server), at=now).dispatch()

    outbox.retry(make_uow(actor="alice", at=now + MINUTE), refused.id)
    session.commit()
    result = make_app(settings_for(server), at=now + MINUTE).dispatch()

    assert result.sent == 1
    assert fresh(session, refused).status == "sent"
    assert [e.actor for e in events(session) if e.action == "retried"] == ["alice"]
    with pytest.raises(InvalidState, match="already sent"):
        outbox.retry(make_uow(actor="alice", at=now), fine.id)


def test_a_dry_run_writes_eml_files_and_changes_nothing(
    session: Session, uow: UnitOfWork, make_app: MakeApp, tmp_path: Path
) -> None:
    messages = queue_notes(uow, 3)
    session.commit()

    written = make_app().write_due(tmp_path / "eml")

    assert [p.read_bytes() for p in written] == [fresh(session, m).raw for m in messages]
    assert all(p.suffix == ".eml" for p in written)
    assert all(
        fresh(session, m).status == "queued" and fresh(session, m).attempts == 0 for m in messages
    )


def test_status_counts_messages_by_status_and_kind(
    session: Session, uow: UnitOfWork, app: App, now: dt.datetime, sink: Sink
) -> None:
    queue_notes(uow, 2, prefix="task")
    queue_notes(uow, 3, prefix="reminder")
    session.commit()
    app.dispatch(limit=2)

    report = outbox.status(session, now=now)

    assert report.by_status == {"queued": 3, "sending": 0, "sent": 2, "failed": 0, "withdrawn": 0}
    assert report.by_kind == {"reminder": {"queued": 3}, "task": {"sent": 2}}
    assert report.due_now == 3 and report.oldest_queued_at == now


def test_a_message_that_fails_again_after_a_retry_raises_an_alert_of_its_own(
    session: Session,
    uow: UnitOfWork,
    make_uow: MakeUow,
    make_app: MakeApp,
    now: dt.datetime,
    start_sink: StartSink,
) -> None:
    (refused,) = queue_notes(uow, 1)
    session.commit()
    server = start_sink(
        ScriptedHandler({refused.message_id: ["550 5.1.1 no such user", "550 5.1.1 still no"]})
    )
    first = make_app(settings_for(server), at=now).dispatch()
    outbox.retry(make_uow(actor="alice", at=now + MINUTE), refused.id)
    session.commit()
    second = make_app(settings_for(server), at=now + MINUTE).dispatch()

    assert (first.failed, first.alerts_queued) == (1, 1)
    assert (second.failed, second.alerts_queued) == (1, 1)  # told again, not silently
    session.expire_all()
    alerts = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "alert").order_by(OutboxMessage.id)
    ).all()
    assert [a.dedupe_key for a in alerts] == [
        f"alert:outbox:{refused.id}",
        f"alert:outbox:{refused.id}:2",
    ]
    assert [a.status for a in alerts] == ["sent", "sent"]
    assert len({a.message_id for a in alerts}) == 2
