"""Each message is claimed before it is sent, and marked sent before the next one arrives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from support.rounds import MAIL_FROM, PUBLIC_URL, queue_notes
from support.scripted_smtp import message_id_of

from audit_core.adapters.smtp_sink import Sink, SinkHandler
from audit_core.bootstrap import App
from audit_core.domain.models import OutboxMessage
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database


class WatchingHandler(SinkHandler):
    """Before accepting each message, notes what the outbox says (as another reader sees it)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self.seen: list[tuple[str, dict[str, str]]] = []  # (Message-ID, statuses then)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.engine.connect() as conn:
            rows = conn.execute(select(OutboxMessage.message_id, OutboxMessage.status))
            statuses = {message_id: status for message_id, status in rows}
        self.seen.append((message_id_of(bytes(envelope.original_content)), statuses))
        self.accept(envelope)
        return "250 2.0.0 OK: queued"


def test_the_server_never_holds_two_accepted_messages_that_are_not_marked_sent(
    session: Session,
    uow: UnitOfWork,
    make_app: Callable[..., App],
    engine: Engine,
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    messages = queue_notes(uow, 12)
    session.commit()
    watcher = WatchingHandler(engine)
    server = start_sink(watcher)

    result = make_app(server.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL)).dispatch()

    assert result.sent == len(messages)
    assert [mid for mid, _statuses in watcher.seen] == [m.message_id for m in messages]
    for n, (message_id, statuses) in enumerate(watcher.seen):
        assert statuses[message_id] == "sending"  # claimed (and committed) before it was sent
        earlier = [mid for mid, _statuses in watcher.seen[:n]]
        assert [statuses[mid] for mid in earlier] == ["sent"] * n
