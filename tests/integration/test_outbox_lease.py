"""A dispatch run longer than the lease, with a new dispatcher every minute, sends nothing twice.

Time is simulated: the clock runs ``SPEED`` times faster than the wall clock, so one
run lasts several lease periods in a few real seconds. The server takes ``SLOW``
(simulated) over each message: less than the lease, but a message claimed one ahead
is held for two of them, longer than the lease, so a run that did not keep its claims
fresh would see them taken over and sent again.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from support.rounds import MAIL_FROM, PUBLIC_URL, queue_notes
from support.scripted_smtp import ScriptedHandler

from audit_core.adapters import db
from audit_core.adapters.dispatcher import DispatchResult
from audit_core.adapters.smtp_sink import Sink, SinkHandler
from audit_core.bootstrap import App
from audit_core.domain.models import OutboxMessage, OutboxStatus
from audit_core.domain.policy import BoardConfig
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = [pytest.mark.database, pytest.mark.slow]

MESSAGES = 30
SPEED = 30  # simulated seconds per real second
LEASE = 30  # simulated seconds (the shortest lease the policy allows)
SLOW = 20  # simulated seconds the server takes over each message
MINUTE = 60  # a new dispatcher starts every simulated minute


class SimulatedClock:
    """Simulated time: starts at ``start`` and runs ``SPEED`` times as fast as real time."""

    def __init__(self, start: dt.datetime) -> None:
        self.start, self.started = start, time.monotonic()

    def seconds(self) -> float:
        return (time.monotonic() - self.started) * SPEED

    def __call__(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.seconds())


def with_lease(config: BoardConfig, seconds: int) -> BoardConfig:
    outbox = config.board.outbox.model_copy(update={"lease_seconds": seconds})
    return config.model_copy(update={"board": config.board.model_copy(update={"outbox": outbox})})


def test_a_run_longer_than_the_lease_with_a_new_dispatcher_every_minute_sends_each_once(
    session: Session,
    session_factory: sessionmaker[Session],
    uow: UnitOfWork,
    database_url: str,
    config: BoardConfig,
    now: dt.datetime,
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    messages = queue_notes(uow, MESSAGES)
    session.commit()
    server = start_sink(ScriptedHandler(delay=SLOW / SPEED))
    settings = server.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL)
    short_lease = with_lease(config, LEASE)
    clock = SimulatedClock(now)
    results: list[DispatchResult] = []
    spans: list[float] = []  # how long each run lasted, in simulated seconds
    errors: list[BaseException] = []

    def dispatcher() -> None:
        engine = db.make_engine(database_url)  # each its own engine, as separate processes would
        try:
            app = App(config=short_lease, engine=engine, smtp=settings, clock=clock)
            started = clock.seconds()
            results.append(app.dispatch())
            spans.append(clock.seconds() - started)
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    def waiting() -> int:
        unsent = select(func.count()).where(OutboxMessage.status != OutboxStatus.SENT)
        with session_factory() as check:
            return check.scalar(unsent) or 0

    threads: list[threading.Thread] = []
    minute = 0
    while waiting() and len(threads) < 3 * MESSAGES * SLOW // MINUTE:
        threads.append(threading.Thread(target=dispatcher))
        threads[-1].start()
        minute += 1
        while clock.seconds() < minute * MINUTE and any(t.is_alive() for t in threads):
            time.sleep(0.01)
    for thread in threads:
        thread.join(timeout=120)

    assert not errors
    received = Counter(r.message_id for r in server.messages)
    repeats = sorted(mid for mid, n in received.items() if n > 1)
    longest = max(spans)
    print(
        f"\n{session.get_bind().dialect.name}: {len(threads)} dispatchers over "
        f"{clock.seconds():.0f} simulated seconds (lease {LEASE} s, longest run {longest:.0f} s); "
        f"sent {sum(r.sent for r in results)}, lost claims "
        f"{sum(r.lost for r in results)}, repeats {len(repeats)}"
    )
    assert len(threads) >= 3, "no dispatcher overlapped a run longer than the lease"
    assert longest > 3 * LEASE, "no run lasted longer than the lease: the test proved nothing"
    assert not repeats, f"sent twice: {repeats}"
    assert received == Counter({m.message_id: 1 for m in messages}), "a message was lost"
    assert sum(r.sent for r in results) == MESSAGES
