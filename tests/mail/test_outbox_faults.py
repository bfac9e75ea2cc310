"""A mail server that says "later" and hangs up: everything is delivered in the end, once."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

import pytest
from mail_factory import MAIL_FROM, PUBLIC_URL, queue_notes
from scripted_smtp import ScriptedHandler
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit_core import outbox
from audit_core.config import BoardConfig
from audit_core.models import OutboxMessage
from audit_core.smtp_sink import Sink, SinkHandler

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
    session_factory: sessionmaker[Session],
    config: BoardConfig,
    now: dt.datetime,
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    messages = queue_notes(session, config, now, 30)
    session.commit()
    script = {m.message_id: FAULTS[n % len(FAULTS)] for n, m in enumerate(messages)}
    handler = ScriptedHandler(script)
    server = start_sink(handler)
    settings = server.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL)

    when, runs = now, 0
    while runs < config.board.outbox.max_attempts:
        result = outbox.dispatch(session_factory, settings, config=config, now=when)
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
    session_factory: sessionmaker[Session],
    config: BoardConfig,
    now: dt.datetime,
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    queue_notes(session, config, now, 20)
    session.commit()
    handler = ScriptedHandler()
    server = start_sink(handler)

    result = outbox.dispatch(
        session_factory,
        server.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL),
        config=config,
        now=now,
    )

    assert result.sent == 20 and server.count == 20
    assert handler.connections == 1
