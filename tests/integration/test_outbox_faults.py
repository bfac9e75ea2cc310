"""A mail server that says "later" and hangs up: everything is delivered in the end, once."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.rounds import MAIL_FROM, PUBLIC_URL, queue_notes
from support.scripted_smtp import ScriptedHandler

from audit_core.adapters.smtp_sink import Sink, SinkHandler
from audit_core.bootstrap import App
from audit_core.domain.models import OutboxMessage
from audit_core.domain.policy import BoardConfig
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

FAULTS: tuple[list[str], ...] = (
    ["451 4.3.0 mailbox busy, try later"],
    ["drop"],
    ["421 4.3.2 service shutting down"],
    ["drop", "451 4.7.1 greylisted", "drop"],
    [],
)


def test_temporary_refusals_and_dropped_connections_end_in_exactly_one_delivery_each(
    session: Session,
    uow: UnitOfWork,
    make_app: Callable[..., App],
    config: BoardConfig,
    now: dt.datetime,
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    messages = queue_notes(uow, 30)
    session.commit()
    script = {m.message_id: FAULTS[n % len(FAULTS)] for n, m in enumerate(messages)}
    handler = ScriptedHandler(script)
    server = start_sink(handler)
    settings = server.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL)

    when, runs = now, 0
    while runs < config.board.outbox.max_attempts:
        result = make_app(settings, at=when).dispatch()
        runs += 1
        if result.retrying == 0:
            break
        when += dt.timedelta(seconds=config.board.outbox.backoff_max_seconds)  # no sleeping

    delivered = Counter(r.message_id for r in server.messages)
    assert delivered == Counter({m.message_id: 1 for m in messages})
    rows = session.scalars(select(OutboxMessage).execution_options(populate_existing=True))
    for row in rows:
        assert row.status == "sent"
        assert row.attempts == len(script[row.message_id]) + 1
        assert handler.attempts[row.message_id] == row.attempts
    assert runs == 4  # the longest script: three failures, then success


def test_one_connection_carries_many_messages(
    session: Session,
    uow: UnitOfWork,
    make_app: Callable[..., App],
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    queue_notes(uow, 20)
    session.commit()
    handler = ScriptedHandler()
    server = start_sink(handler)

    result = make_app(server.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL)).dispatch()

    assert result.sent == 20 and server.count == 20
    assert handler.connections == 1
