"""What a killed dispatcher left in "sending" is sent by the next one at once, not after the lease.

A dispatcher reclaims only what a process on its own host held, and only if that
process is gone: a live dispatcher's claims, and another host's, are left alone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from support.dispatcher_process import Dispatchers
from support.rounds import MAIL_FROM, PUBLIC_URL, queue_notes
from typer.testing import CliRunner

from audit_core.adapters.smtp_sink import Sink, SinkHandler
from audit_core.bootstrap import App
from audit_core.cli import app as cli
from audit_core.domain.models import OutboxMessage, OutboxStatus
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = [pytest.mark.database, pytest.mark.slow]


class HoldingHandler(SinkHandler):
    """Holds the first message it is given at DATA until ``release`` is set, then refuses it
    (so that a copy sent again would show); accepts the others."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived, self.release = threading.Event(), threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.arrived.is_set():
            return await super().handle_DATA(server, session, envelope)
        self.arrived.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
        return "451 4.3.0 try again later"


def sending(session_factory: sessionmaker[Session]) -> list[str]:
    """Who holds each message in "sending"."""
    with session_factory() as check:
        query = select(OutboxMessage.claimed_by).where(OutboxMessage.status == OutboxStatus.SENDING)
        return list(check.scalars(query))


def test_a_dispatcher_killed_mid_send_leaves_nothing_waiting_for_the_lease(
    session: Session,
    session_factory: sessionmaker[Session],
    uow: UnitOfWork,
    make_app: Callable[..., App],
    database_url: str,
    now: dt.datetime,
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    messages = queue_notes(uow, 3)
    session.commit()
    handler = HoldingHandler()
    server = start_sink(handler)

    with Dispatchers(database_url, server.host, server.port) as dispatchers:
        pid = dispatchers.start(now)
        assert handler.arrived.wait(30), "the dispatcher never reached DATA"
        for _ in range(300):  # the next message is claimed while the server holds this one
            if len(sending(session_factory)) == 2:
                break
            time.sleep(0.01)
        assert dispatchers.kill(pid)
    stranded = sending(session_factory)
    handler.release.set()
    assert len(stranded) == 2 and all(f":{pid}:" in worker for worker in stranded)

    result = make_app(server.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL)).dispatch()

    assert (result.reclaimed, result.sent) == (2, 3)
    assert Counter(r.message_id for r in server.messages) == Counter(
        {m.message_id: 1 for m in messages}
    )
    assert sending(session_factory) == []


def test_claims_of_a_live_dispatcher_or_of_another_host_are_left_to_their_lease(
    session: Session,
    session_factory: sessionmaker[Session],
    uow: UnitOfWork,
    app: App,
    now: dt.datetime,
    sink: Sink,
    cli_env: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    live, elsewhere = queue_notes(uow, 2)
    session.commit()
    running = subprocess.Popen(["sleep", "60"])  # a process of this host that is still there
    host = socket.gethostname()
    try:
        claims = ((live, f"{host}:{running.pid}:a1b2c3"), (elsewhere, "far:1:d4e5f6"))
        for message, worker in claims:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id)
                .values(status="sending", claimed_by=worker, claimed_at=now, attempts=1)
            )
        session.commit()

        first = app.dispatch()
        assert (first.reclaimed, first.sent) == (0, 0)
    finally:
        running.kill()
        running.wait()

    for name, value in {**sink.env(), "AUDITROUND_MAIL_FROM": MAIL_FROM}.items():
        monkeypatch.setenv(name, value)
    second = CliRunner().invoke(cli, ["--now", "2026-03-02", "outbox", "dispatch"])

    assert second.exit_code == 0, second.output
    assert "Sent 1," in second.output
    assert "taken back from a stopped dispatcher 1." in second.output
    assert [r.message_id for r in sink.messages] == [live.message_id]
    assert sending(session_factory) == ["far:1:d4e5f6"]
    with session_factory() as check:
        attempts = check.scalar(select(OutboxMessage.attempts).where(OutboxMessage.id == live.id))
    assert attempts == 1  # the attempt the dead dispatcher never finished is not counted
