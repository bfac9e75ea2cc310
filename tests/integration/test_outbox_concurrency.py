"""Two dispatchers at once never send the same message twice (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.rounds import MAIL_FROM, PUBLIC_URL, queue_notes
from support.scripted_smtp import ScriptedHandler

from audit_core.adapters import db
from audit_core.adapters.dispatcher import DispatchResult
from audit_core.adapters.smtp_sink import Sink, SinkHandler
from audit_core.bootstrap import App
from audit_core.domain.models import OutboxMessage
from audit_core.domain.policy import BoardConfig
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

MESSAGES = 200


def test_two_dispatchers_at_once_share_the_work_without_sending_anything_twice(
    session: Session,
    uow: UnitOfWork,
    database_url: str,
    config: BoardConfig,
    now: dt.datetime,
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    messages = queue_notes(uow, MESSAGES)
    session.commit()
    server = start_sink(ScriptedHandler(delay=0.001))
    settings = server.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL)
    start = threading.Barrier(2)
    results: dict[str, DispatchResult] = {}
    errors: list[BaseException] = []

    def dispatcher(name: str) -> None:
        engine = db.make_engine(database_url)  # each its own engine, as separate processes would
        try:
            start.wait()
            app = App(config=config, engine=engine, smtp=settings, clock=lambda: now)
            results[name] = app.dispatch(worker=name)
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=dispatcher, args=(n,)) for n in ("alpha", "beta")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors
    received = Counter(r.message_id for r in server.messages)
    assert received == Counter({m.message_id: 1 for m in messages})
    assert results["alpha"].sent + results["beta"].sent == MESSAGES
    assert results["alpha"].sent > 0 and results["beta"].sent > 0
    session.expire_all()
    senders = Counter(session.scalars(select(OutboxMessage.claimed_by)))
    assert senders == Counter({"alpha": results["alpha"].sent, "beta": results["beta"].sent})
    print(
        f"\n{session.get_bind().dialect.name}: alpha sent {results['alpha'].sent}, "
        f"beta sent {results['beta'].sent}; claims lost to the other: "
        f"{results['alpha'].skipped + results['beta'].skipped}"
    )
