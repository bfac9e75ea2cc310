"""The business unit's launch summary tells what really happened to the launch's emails:
delivered, not delivered, or waiting for a retry. It is sent once, after the tasks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support.rounds import MAIL_FROM, PUBLIC_URL, planned_round
from support.scripted_smtp import ScriptedHandler

from audit_core.adapters.settings import SmtpSettings
from audit_core.adapters.smtp_sink import Received, Sink, SinkHandler, free_port
from audit_core.bootstrap import App
from audit_core.domain.models import OutboxMessage
from audit_core.domain.policy import BoardConfig
from audit_core.services.launch import Outcome
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

AMARA = "amara.bello@example.org"  # HK-00123, Hackney Children and Families Service
GP_LEAD = "farida.haidari@example.org"  # asked to nominate for HK-00123


def summaries(messages: list[Received], config: BoardConfig) -> list[EmailMessage]:
    unit = config.board.business_unit.email
    return [
        m.parsed()
        for m in messages
        if unit in str(m.parsed()["To"]) and "launched" in str(m.parsed()["Subject"])
    ]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def summary_rows(session: Session) -> int:
    return session.scalar(select(func.count()).where(OutboxMessage.kind == "launch_summary")) or 0


def serving(
    start_sink: Callable[[SinkHandler], Sink], make_app: Callable[..., App], **script: object
) -> tuple[Sink, App]:
    server = start_sink(ScriptedHandler(**script))  # type: ignore[arg-type]
    return server, make_app(server.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL))


def test_the_summary_is_sent_after_the_tasks_and_reports_them_delivered(
    uow: UnitOfWork, session: Session, app: App, sink: Sink, config: BoardConfig
) -> None:
    planned_round(uow)
    session.commit()

    launched, sent = app.launch("2026-H1")

    assert sent.sent == 8 and sent.failed == 0
    assert launched.summary is not None and launched.summary_queued
    assert launched.summary.tasks == Outcome(delivered=5)
    assert launched.summary.nominations == Outcome(delivered=2)
    (summary,) = summaries(sink.messages, config)
    assert sink.messages[-1].parsed()["Message-ID"] == summary["Message-ID"]  # sent last
    assert summary["Subject"] == "Case audit 2026-H1 launched: 5 tasks delivered, 2 to nominate"
    text = text_of(summary)
    assert "Tasks:        5 delivered, 0 not delivered, 0 waiting for a retry" in text
    assert "HK-00123  Hackney Children and Families Service: Amara Bello" in text
    assert "NOT delivered" not in text and "waiting for a retry (" not in text
    assert "asked Dr Farida Haidari" in text


def test_a_task_refused_for_good_is_reported_as_not_delivered(
    uow: UnitOfWork,
    session: Session,
    config: BoardConfig,
    make_app: Callable[..., App],
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    planned_round(uow)
    session.commit()
    server, app = serving(start_sink, make_app, refuse={AMARA: "550 5.1.1 no such user"})

    launched, sent = app.launch("2026-H1")

    assert sent.failed == 1 and sent.alerts_queued == 1
    assert launched.summary is not None
    assert launched.summary.tasks == Outcome(delivered=4, failed=1)
    (summary,) = summaries(server.messages, config)
    assert summary["Subject"] == (
        "Case audit 2026-H1 launched: 4 tasks delivered, 1 not delivered, 2 to nominate"
    )
    text = text_of(summary)
    failed_part = text.split("Tasks NOT delivered", 1)[1].split("Waiting for a nomination")[0]
    assert "HK-00123  Hackney Children and Families Service: Amara Bello" in failed_part
    delivered_part = text.split("Tasks delivered", 1)[1].split("Tasks NOT delivered")[0]
    assert "Amara Bello" not in delivered_part
    kinds = session.scalars(select(OutboxMessage.kind).where(OutboxMessage.status == "sent"))
    assert list(kinds).count("alert") == 1  # the business unit was told why, as well


def test_a_nomination_request_refused_for_good_is_reported(
    uow: UnitOfWork,
    session: Session,
    config: BoardConfig,
    make_app: Callable[..., App],
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    planned_round(uow)
    session.commit()
    server, app = serving(start_sink, make_app, refuse={GP_LEAD: "550 5.1.1 no such user"})

    launched, _sent = app.launch("2026-H1")

    assert launched.summary is not None
    assert launched.summary.nominations == Outcome(delivered=1, failed=1)
    (summary,) = summaries(server.messages, config)
    assert "1 not delivered" in str(summary["Subject"])
    assert "the request to Dr Farida Haidari was NOT delivered" in text_of(summary)


def test_a_task_the_server_put_off_is_reported_as_waiting_for_a_retry(
    uow: UnitOfWork,
    session: Session,
    config: BoardConfig,
    make_app: Callable[..., App],
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    planned_round(uow)
    session.commit()
    server, app = serving(start_sink, make_app, refuse={AMARA: "451 4.3.0 try again later"})

    launched, sent = app.launch("2026-H1")

    assert sent.retrying == 1 and sent.failed == 0
    assert launched.summary is not None
    assert launched.summary.tasks == Outcome(delivered=4, waiting=1)
    (summary,) = summaries(server.messages, config)
    assert "4 tasks delivered, 1 waiting for a retry" in str(summary["Subject"])
    text = text_of(summary)
    waiting_part = text.split("Tasks waiting for a retry", 1)[1].split("Waiting for a nomination")[
        0
    ]
    assert "Amara Bello" in waiting_part


def test_launching_again_sends_no_second_summary(
    uow: UnitOfWork,
    session: Session,
    app: App,
    make_app: Callable[..., App],
    mail_settings: SmtpSettings,
    sink: Sink,
    config: BoardConfig,
    now: dt.datetime,
) -> None:
    planned_round(uow)
    session.commit()
    app.launch("2026-H1")

    again, sent = make_app(mail_settings, at=now + dt.timedelta(hours=2)).launch("2026-H1")

    assert not again.summary_queued and again.queued == 0
    assert sent.attempted == 0
    assert len(summaries(sink.messages, config)) == 1
    assert summary_rows(session) == 1


def test_when_the_server_cannot_be_reached_the_summary_waits_for_the_next_launch(
    uow: UnitOfWork,
    session: Session,
    make_app: Callable[..., App],
    mail_settings: SmtpSettings,
    sink: Sink,
    config: BoardConfig,
    now: dt.datetime,
) -> None:
    planned_round(uow)
    session.commit()
    nowhere = mail_settings.with_server("127.0.0.1", free_port())

    launched, sent = make_app(nowhere).launch("2026-H1")

    assert sent.stopped and "cannot connect to the mail server" in sent.stopped
    assert launched.summary is None and launched.summary_deferred
    assert summary_rows(session) == 0  # nothing was delivered, so nothing is reported yet

    later = now + dt.timedelta(days=1)  # past the wait after the failed connection
    again, resent = make_app(mail_settings, at=later).launch("2026-H1")

    assert resent.sent == 8 and resent.stopped is None
    assert again.summary is not None and again.summary.tasks == Outcome(delivered=5)
    (summary,) = summaries(sink.messages, config)
    assert "5 tasks delivered" in str(summary["Subject"])
