"""A dispatcher killed at random points loses nothing; only the message in flight can repeat.

Each run starts at the same moment of the clock: what a killed run left in "sending"
is reclaimed by the next run at once, not after the lease. Run with ``-s`` to see how
many of the kills led to a message being received twice.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from support.dispatcher_process import Dispatchers, mid_run
from support.rounds import MAIL_FROM, PUBLIC_URL, queue_notes
from support.scripted_smtp import ScriptedHandler

from audit_core.adapters.smtp_sink import Sink, SinkHandler
from audit_core.bootstrap import App
from audit_core.domain.models import OutboxMessage, OutboxStatus
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = [pytest.mark.database, pytest.mark.slow]

MESSAGES = 400
KILLS = 25


def in_flight(session_factory: sessionmaker[Session]) -> set[str]:
    with session_factory() as session:
        return set(
            session.scalars(
                select(OutboxMessage.message_id).where(OutboxMessage.status == OutboxStatus.SENDING)
            )
        )


def test_killing_the_dispatcher_at_random_points_loses_no_message_and_repeats_only_one_in_flight(
    session: Session,
    session_factory: sessionmaker[Session],
    uow: UnitOfWork,
    make_app: Callable[..., App],
    database_url: str,
    now: dt.datetime,
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    messages = queue_notes(uow, MESSAGES)
    session.commit()
    server = start_sink(ScriptedHandler(delay=0.002))
    stored = {
        row.message_id: row.raw
        for row in session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_([m.id for m in messages]))
        )
    }
    assert len(stored) == MESSAGES
    rng = random.Random(20260302)
    caught: Counter[str] = Counter()  # Message-ID -> kills that left it in "sending"
    kills = runs = 0
    with Dispatchers(database_url, server.host, server.port) as dispatchers:
        while kills < KILLS and runs < 3 * KILLS:
            runs += 1
            pid = dispatchers.start(now)  # the same moment: no lease has run out
            mid_run(server, rng)
            if dispatchers.kill(pid):
                kills += 1
                caught.update(in_flight(session_factory))

    remaining = MESSAGES - len({r.message_id for r in server.messages})
    final = make_app(server.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL)).dispatch()

    received = Counter(r.message_id for r in server.messages)
    repeats = {mid: n - 1 for mid, n in received.items() if n > 1}
    print(
        f"\n{session.get_bind().dialect.name}: {kills} kills in {runs} runs; "
        f"{len(caught)} message(s) caught in flight; "
        f"{sum(repeats.values())} of {kills} kills led to a message received twice; "
        f"{remaining} messages were left for the final run, which "
        f"reclaimed {final.reclaimed} and sent {final.sent}"
    )
    assert kills >= KILLS
    assert caught, "no kill landed while a message was in flight: the test proved nothing"
    assert sum(repeats.values()) <= kills  # at most the one message in flight per kill
    assert set(received) == set(stored), "a message was lost"
    for message_id, extra in repeats.items():
        assert message_id in caught, f"{message_id} was repeated without being in flight"
        assert extra <= caught[message_id]
    for copy in server.messages:
        assert copy.content.rstrip(b"\r\n") == stored[copy.message_id].rstrip(b"\r\n")
    with session_factory() as check:
        statuses = Counter(check.scalars(select(OutboxMessage.status)))
    assert statuses == Counter({"sent": MESSAGES})
