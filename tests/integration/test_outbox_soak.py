"""A soak: 500 messages through a hostile server, with dispatchers killed and started again.

The server answers 421 or 451 at random and drops connections (the faults of each
message are drawn from a seeded random, printed with the counts: the same seed
gives the same faults), and refuses one recipient domain with 550 at RCPT. Two
dispatcher processes run at once and are killed with SIGKILL at random points, then
started again, until ``KILLS`` kills; then dispatchers run undisturbed to the end. In the end:

* nothing is lost: every message was received, except those to the refused domain,
  which failed for good;
* no Message-ID was received twice, except a message a killed dispatcher had in
  flight (and no more copies than kills);
* each message that failed for good got exactly one alert, and the alert was sent.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
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
from audit_core.domain.policy import BoardConfig
from audit_core.services.outbox import ALERT_KIND
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = [pytest.mark.database, pytest.mark.slow]

SEED = int(os.environ.get("AUDITROUND_SOAK_SEED", "20260309"))
MESSAGES = 500
REFUSED_EVERY = 20  # one message in 20 goes to the refused domain
FAULTY = 0.3  # the share of messages the server refuses or drops at first
FAULTS = ("421 4.3.2 service shutting down", "451 4.3.0 mailbox busy, try later", "drop")
KILLS = 30  # runs killed at a random point (a run that finished first is not counted)
STEP = dt.timedelta(minutes=2)  # simulated time between rounds: retries come due


def outbox_rows(session_factory: sessionmaker[Session]) -> list[OutboxMessage]:
    with session_factory() as check:
        return list(check.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def in_flight(session_factory: sessionmaker[Session], pid: int) -> set[str]:
    """The messages the (killed) dispatcher with this process id left in "sending"."""
    return {
        row.message_id
        for row in outbox_rows(session_factory)
        if row.status == OutboxStatus.SENDING and f":{pid}:" in (row.claimed_by or "")
    }


def unfinished(session_factory: sessionmaker[Session]) -> int:
    done = (OutboxStatus.SENT, OutboxStatus.FAILED)
    return sum(row.status not in done for row in outbox_rows(session_factory))


def test_a_soak_of_faults_and_kills_loses_nothing_repeats_only_in_flight_and_alerts_once(
    session: Session,
    session_factory: sessionmaker[Session],
    uow: UnitOfWork,
    make_app: Callable[..., App],
    database_url: str,
    config: BoardConfig,
    now: dt.datetime,
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    started = time.monotonic()
    rng = random.Random(SEED)
    plain = queue_notes(uow, MESSAGES - MESSAGES // REFUSED_EVERY, prefix="soak")
    refused = queue_notes(
        uow, MESSAGES // REFUSED_EVERY, prefix="bounce", to=("sam.okafor@refused.example.net",)
    )
    session.commit()
    script = {
        m.message_id: rng.choices(FAULTS, k=rng.randint(1, 2))
        for m in plain
        if rng.random() < FAULTY
    }
    handler = ScriptedHandler(
        script, refuse={"@refused.example.net": "550 5.1.2 no such domain"}, delay=0.001
    )
    server = start_sink(handler)
    caught: Counter[str] = Counter()  # Message-ID -> kills that left it in "sending"
    kills = rounds = 0
    when = now
    with (
        Dispatchers(database_url, server.host, server.port) as first,
        Dispatchers(database_url, server.host, server.port) as second,
    ):
        while kills < KILLS and rounds < 4 * KILLS and unfinished(session_factory):
            rounds += 1
            pids = [(first, first.start(when)), (second, second.start(when))]
            for dispatchers, pid in pids:
                mid_run(server, rng)
                if dispatchers.kill(pid):
                    kills += 1
                    caught.update(in_flight(session_factory, pid))
            when += STEP
    settings = server.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL)
    for _ in range(config.board.outbox.max_attempts):  # the rest, undisturbed
        make_app(settings, at=when).dispatch()
        when += dt.timedelta(seconds=config.board.outbox.backoff_max_seconds)
        if not unfinished(session_factory):
            break

    rows = outbox_rows(session_factory)
    received = Counter(r.message_id for r in server.messages)
    repeats = {mid: n - 1 for mid, n in received.items() if n > 1}
    alerts = [row for row in rows if row.kind == ALERT_KIND]
    failed = [row for row in rows if row.status == OutboxStatus.FAILED]
    print(
        f"\n{session.get_bind().dialect.name}: seed {SEED}; {MESSAGES} messages, "
        f"{len(script)} with faults ({sum(map(len, script.values()))} faults), "
        f"{len(refused)} to the refused domain; {rounds} rounds of two dispatchers ("
        f"{kills} killed), {len(caught)} message(s) caught in flight; "
        f"{len(received)} Message-IDs received, {sum(repeats.values())} twice; "
        f"{len(failed)} failed for good, {len(alerts)} alerts; "
        f"{time.monotonic() - started:.1f} s"
    )

    assert kills >= KILLS and caught, "the dispatchers were hardly killed: the soak proved little"
    assert Counter(row.status for row in rows) == Counter(
        {OutboxStatus.SENT: len(plain) + len(alerts), OutboxStatus.FAILED: len(refused)}
    ), "a message was neither sent nor refused for good"
    assert {row.message_id for row in failed} == {m.message_id for m in refused}
    sent = {row.message_id for row in rows if row.status == OutboxStatus.SENT}
    assert set(received) == sent, "a message marked sent never arrived, or one arrived unsent"
    assert sum(repeats.values()) <= kills
    for message_id, extra in repeats.items():
        assert extra <= caught[message_id], f"{message_id} was repeated without being in flight"
    assert sorted(row.dedupe_key for row in alerts) == sorted(
        f"alert:outbox:{row.id}" for row in failed
    ), "not exactly one alert per message refused for good"
