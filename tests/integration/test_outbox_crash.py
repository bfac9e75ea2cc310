"""A dispatcher killed at random points loses nothing; only the message in flight can repeat."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from support.rounds import MAIL_FROM, PUBLIC_URL, queue_notes
from support.scripted_smtp import ScriptedHandler

from audit_core.adapters.smtp_sink import Sink, SinkHandler
from audit_core.bootstrap import App
from audit_core.domain.models import OutboxMessage, OutboxStatus
from audit_core.domain.policy import BoardConfig
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = [pytest.mark.database, pytest.mark.slow]

TESTS = Path(__file__).resolve().parent.parent
DISPATCHER = TESTS / "support" / "dispatcher_process.py"
CONFIG_DIR = TESTS.parent / "config"
MESSAGES = 400
KILLS = 20


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
    config: BoardConfig,
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
    lease = dt.timedelta(seconds=config.board.outbox.lease_seconds + 1)

    zygote = subprocess.Popen(
        [
            sys.executable,
            str(DISPATCHER),
            database_url,
            server.host,
            str(server.port),
            str(CONFIG_DIR),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    assert zygote.stdin is not None and zygote.stdout is not None
    caught: Counter[str] = Counter()  # Message-ID -> kills that left it in "sending"
    when, kills, runs = now, 0, 0
    try:
        assert zygote.stdout.readline().strip() == "ready"
        while kills < KILLS and runs < 3 * KILLS:
            runs += 1
            zygote.stdin.write(f"run {when.isoformat()} crash-{runs}\n")
            zygote.stdin.flush()
            started = zygote.stdout.readline().split()
            assert started[0] == "started", started
            time.sleep(rng.uniform(0.0, 0.12))
            with contextlib.suppress(ProcessLookupError):  # it may have finished already
                os.kill(int(started[1]), signal.SIGKILL)
            ended = zygote.stdout.readline().split()
            assert ended[:2] == ["ended", started[1]], ended
            status = int(ended[2])
            if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
                kills += 1
                caught.update(in_flight(session_factory))
            when += lease  # the next dispatcher may take over what this one held
        zygote.stdin.write("quit\n")
        zygote.stdin.flush()
        zygote.wait(timeout=10)
    finally:
        if zygote.poll() is None:
            zygote.kill()

    remaining = MESSAGES - server.count
    final = make_app(
        server.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL), at=when
    ).dispatch()

    received = Counter(r.message_id for r in server.messages)
    repeats = {mid: n - 1 for mid, n in received.items() if n > 1}
    print(
        f"\n{kills} kills in {runs} runs; {remaining} messages were left for the final run "
        f"({final.sent} sent by it); {len(caught)} message(s) caught in flight; "
        f"{sum(repeats.values())} repeat(s): {sorted(repeats)}"
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
