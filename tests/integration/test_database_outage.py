"""A database that is locked or lost mid-dispatch: waited for, within a bound; then the run
stops with one sentence, having marked what was sent and given back what was claimed.

SQLite: a second connection holds the write lock (as a long register import does).
PostgreSQL: the dispatcher's server process is terminated (``pg_terminate_backend``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
import socket
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from support import MAIL_FROM, PUBLIC_URL
from support.rounds import queue_notes
from support.scripted_smtp import ScriptedHandler

from audit_core.adapters import db
from audit_core.adapters.mail_render import EmailComposer
from audit_core.adapters.smtp_sink import Sink, SinkHandler
from audit_core.bootstrap import App
from audit_core.domain.errors import DatabaseUnavailable
from audit_core.domain.models import OutboxMessage
from audit_core.domain.policy import BoardConfig
from audit_core.services.ports import Mail
from audit_core.services.unit_of_work import UnitOfWork

MESSAGES = 10
LOCKED_AFTER = 3  # the lock is taken as the server accepts this message


class AfterDelivery(ScriptedHandler):
    """Accepts every message; as it accepts the ``nth``, calls ``then`` (in the server's thread)."""

    def __init__(self, nth: int, then: Callable[[], None]) -> None:
        super().__init__()
        self.nth, self.then = nth, then

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if self.count == self.nth:
            self.then()
        return answer


class WriteLock:
    """Another process's write transaction on the SQLite file, taken and released on cue."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.taken = threading.Event()

    def take(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.taken.set()

    def release(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.release()
        self.conn.close()


class OnLog(logging.Handler):
    """Calls ``then`` when the dispatcher logs a line containing ``words``."""

    def __init__(self, words: str, then: Callable[[], None]) -> None:
        super().__init__(logging.INFO)
        self.words, self.then = words, then

    def emit(self, record: logging.LogRecord) -> None:
        if self.words in record.getMessage():
            self.then()


@pytest.fixture(scope="module")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("outage") / "template.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def sqlite_path(_sqlite_template: Path, tmp_path: Path) -> Path:
    """A migrated SQLite file of this test's own (the lock is SQLite's, whatever the run)."""
    path = tmp_path / "auditround.db"
    shutil.copyfile(_sqlite_template, path)
    return path


@pytest.fixture
def lock(sqlite_path: Path) -> Iterator[WriteLock]:
    held = WriteLock(sqlite_path)
    yield held
    held.close()


def _queue(engine: Engine, config: BoardConfig, now: dt.datetime, count: int) -> None:
    mail = Mail(EmailComposer(installation=db.installation_id(engine)), MAIL_FROM, PUBLIC_URL)
    with db.transaction(engine) as session:
        queue_notes(UnitOfWork(session, config, now, "alice", mail), count)


def _rows(engine: Engine) -> list[OutboxMessage]:
    with db.session_factory(engine)() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _dispatcher(
    path: Path, seconds: float, config: BoardConfig, server: Sink, at: dt.datetime
) -> tuple[Engine, App]:
    engine = db.make_engine(f"sqlite:///{path}", retry_seconds=seconds)
    settings = server.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL)
    return engine, App(config=config, engine=engine, smtp=settings, clock=lambda: at)


@pytest.fixture
def dispatcher_log(caplog: pytest.LogCaptureFixture) -> Iterator[logging.Logger]:
    caplog.set_level(logging.INFO, logger="audit_core.adapters.dispatcher")
    logger = logging.getLogger("audit_core.adapters.dispatcher")
    handlers = list(logger.handlers)
    yield logger
    for handler in set(logger.handlers) - set(handlers):
        logger.removeHandler(handler)


def test_a_lock_held_past_the_bound_stops_the_dispatch_with_a_sentence_and_no_claim_left(
    sqlite_path: Path,
    lock: WriteLock,
    dispatcher_log: logging.Logger,
    config: BoardConfig,
    now: dt.datetime,
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    server = start_sink(AfterDelivery(LOCKED_AFTER, lock.take))
    engine, app = _dispatcher(sqlite_path, 1.0, config, server, now)
    _queue(engine, config, now, MESSAGES)
    # the import finishes just after the dispatcher has given up waiting for it
    dispatcher_log.addHandler(OnLog("gives back its claims", lock.release))

    with pytest.raises(DatabaseUnavailable) as stopped:
        app.dispatch()

    sentence = str(stopped.value)
    assert sentence.startswith(
        "The database is locked by another process and stayed locked for 1 s, "
        "so the dispatch stopped: 3 messages were sent and marked sent; what is not sent "
        "waits in the outbox for the next dispatch."
    ), sentence
    rows = _rows(engine)
    assert Counter(r.status for r in rows) == {"sent": 3, "queued": MESSAGES - 3}
    assert all(r.attempts == 0 for r in rows if r.status == "queued")  # given back untried
    delivered = Counter(m.message_id for m in server.messages)
    assert delivered == Counter({r.message_id: 1 for r in rows if r.status == "sent"})
    engine.dispose()


def test_a_lock_released_within_the_bound_lets_the_dispatch_finish(
    sqlite_path: Path,
    lock: WriteLock,
    config: BoardConfig,
    now: dt.datetime,
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    def take_briefly() -> None:
        lock.take()
        threading.Timer(0.3, lock.release).start()

    server = start_sink(AfterDelivery(LOCKED_AFTER, take_briefly))
    engine, app = _dispatcher(sqlite_path, 30.0, config, server, now)
    _queue(engine, config, now, MESSAGES)

    result = app.dispatch()

    assert lock.taken.is_set()
    assert result.sent == MESSAGES
    rows = _rows(engine)
    assert {r.status for r in rows} == {"sent"}
    assert Counter(m.message_id for m in server.messages) == Counter(
        {r.message_id: 1 for r in rows}
    )
    engine.dispose()


def test_a_lock_that_outlasts_the_run_is_reported_claim_by_claim_and_nothing_is_lost(
    sqlite_path: Path,
    lock: WriteLock,
    config: BoardConfig,
    now: dt.datetime,
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    server = start_sink(AfterDelivery(LOCKED_AFTER, lock.take))
    engine, app = _dispatcher(sqlite_path, 0.5, config, server, now)
    _queue(engine, config, now, MESSAGES)

    with pytest.raises(DatabaseUnavailable) as stopped:
        app.dispatch()
    lock.release()

    sentence = str(stopped.value)
    assert "stayed locked for 0.5 s, so the dispatch stopped" in sentence
    named = {int(n) for n in re.findall(r"message (\d+) ", sentence)}
    rows = _rows(engine)
    assert {r.id for r in rows if r.status == "sending"} == named  # exactly those it names
    unmarked = re.search(r"message (\d+) was accepted by the mail server", sentence)
    assert unmarked is not None  # the third was accepted as the lock was taken

    later = now + dt.timedelta(seconds=config.board.outbox.lease_seconds + 1)
    _, again = _dispatcher(sqlite_path, 0.5, config, server, later)
    again.dispatch()

    rows = _rows(engine)
    assert {r.status for r in rows} == {"sent"}
    delivered = Counter(m.message_id for m in server.messages)
    assert set(delivered) == {r.message_id for r in rows}  # nothing lost
    repeated = {r.id for r in rows if delivered[r.message_id] > 1}
    assert repeated == {int(unmarked.group(1))}  # the one it said, with the same Message-ID
    engine.dispose()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_database_server_that_cannot_be_reached_is_tried_for_the_bound_then_named() -> None:
    url = f"postgresql+psycopg://auditround@127.0.0.1:{_closed_port()}/auditround"
    engine = db.make_engine(url, retry_seconds=0.5)
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as stopped, db.transaction(engine) as session:
        session.execute(text("SELECT 1"))
    assert time.monotonic() - started >= 0.5  # it did wait
    assert str(stopped.value).startswith("The database could not be reached within 0.5 s (")
    assert "Connection refused" in str(stopped.value)
    assert "db upgrade" not in str(stopped.value)


POSTGRES = os.environ.get("AUDITROUND_TEST_DATABASE_URL", "").startswith("postgresql")


class TerminateOnRecipient(ScriptedHandler):
    """Before answering RCPT for the ``nth`` messages (the dispatcher then waits on the mail
    server, between two transactions), terminates the dispatcher's database connections."""

    def __init__(self, nths: set[int], terminate: Callable[[], None]) -> None:
        super().__init__()
        self.nths, self.terminate, self.seen = nths, terminate, 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.seen += 1
        if self.seen in self.nths:
            self.terminate()
        return await super().handle_RCPT(server, session, envelope, address, options)


@pytest.mark.database
@pytest.mark.skipif(not POSTGRES, reason="a database server process to terminate: PostgreSQL")
def test_a_terminated_database_connection_is_made_again_and_each_message_delivered_once(
    session: Session,
    uow: UnitOfWork,
    database_url: str,
    config: BoardConfig,
    now: dt.datetime,
    start_sink: Callable[[SinkHandler], Sink],
    caplog: pytest.LogCaptureFixture,
) -> None:
    messages = queue_notes(uow, 20)
    session.commit()
    name = "auditround-outage-test"
    admin = db.make_engine(database_url)
    terminated: list[int] = []

    def terminate() -> None:
        mine = "FROM pg_stat_activity WHERE application_name = :name"
        with admin.begin() as conn:
            terminated.append(
                conn.scalar(text(f"SELECT count(pg_terminate_backend(pid)) {mine}"), {"name": name})
            )
        for _ in range(200):  # until they are gone, so that the kill lands between statements
            with admin.connect() as conn:
                if not conn.scalar(text(f"SELECT count(*) {mine}"), {"name": name}):
                    return
            time.sleep(0.01)

    server = start_sink(TerminateOnRecipient({4, 11, 12}, terminate))
    engine = db.make_engine(database_url, connect_args={"application_name": name})
    settings = server.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL)
    app = App(config=config, engine=engine, smtp=settings, clock=lambda: now)
    try:
        result = app.dispatch()
    finally:
        engine.dispose()
        admin.dispose()

    assert len(terminated) == 3 and all(terminated)  # each time, the dispatcher's connection
    lost = [r for r in caplog.records if "the database is out of reach" in r.getMessage()]
    assert len(lost) == 3  # and each time the dispatcher found it gone and made it again
    assert result.sent == len(messages)
    delivered = Counter(m.message_id for m in server.messages)
    assert delivered == Counter({m.message_id: 1 for m in messages})
    statuses = session.scalars(
        select(OutboxMessage.status).execution_options(populate_existing=True)
    )
    assert set(statuses) == {"sent"}
