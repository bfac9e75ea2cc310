"""One scheduler per database: a lock held for as long as the scheduler runs.

APScheduler 3 has no lock of its own, and two schedulers on one database would run
every job twice (the bodies are idempotent, but the load and the logs would double).
On PostgreSQL the lock is a session advisory lock on a connection kept open (it goes
when the process or its connection goes); on SQLite it is an exclusive ``flock`` on
a file beside the database file (``<database>.scheduler.lock``), which the kernel
releases when the process ends. Either way the holder is named: its host, process
id and start time, kept in the lock file or in the connection's ``application_name``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from audit_core.domain.errors import AuditRoundError

LOCK_KEY = 0x41524E44  # the advisory lock's key ("ARND"); classid 0, objid this
APPLICATION = "auditround scheduler"


class SchedulerRunning(AuditRoundError):
    """Another scheduler already holds this database."""


def holder_name(now: dt.datetime) -> str:
    return f"{socket.gethostname()} pid {os.getpid()} since {now:%Y-%m-%d %H:%M %Z}"


def _refused(holder: str) -> SchedulerRunning:
    return SchedulerRunning(
        f"Another scheduler already runs for this database ({holder or 'holder unknown'}): "
        "stop it first, or leave it running. Only one scheduler may run per database."
    )


@contextlib.contextmanager
def hold(engine: Engine, holder: str) -> Iterator[None]:
    """Hold the scheduler's lock on ``engine``'s database, or raise :class:`SchedulerRunning`."""
    if engine.dialect.name == "postgresql":
        with _advisory(engine, holder):
            yield
        return
    database = engine.url.database
    if not database or database == ":memory:":  # a private in-memory database: nobody else
        yield
        return
    with _lock_file(Path(f"{database}.scheduler.lock"), holder):
        yield


@contextlib.contextmanager
def _lock_file(path: Path, holder: str) -> Iterator[None]:
    with path.open("a+", encoding="utf-8") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            raise _refused(file.read().strip()) from None
        file.seek(0)
        file.truncate()
        file.write(holder + "\n")
        file.flush()
        try:
            yield
        finally:
            file.truncate(0)
            fcntl.flock(file, fcntl.LOCK_UN)


@contextlib.contextmanager
def _advisory(engine: Engine, holder: str) -> Iterator[None]:
    with engine.connect() as conn:
        conn.execute(
            text("SELECT set_config('application_name', :name, false)"),
            {"name": f"{APPLICATION}: {holder}"[:63]},
        )
        got = conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})
        conn.commit()
        if not got:
            raise _refused(_advisory_holder(conn))
        try:
            yield
        finally:
            with contextlib.suppress(Exception):  # a lost connection has released it already
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                conn.commit()


def _advisory_holder(conn: Connection) -> str:
    name = conn.scalar(
        text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.classid = 0 AND l.objid = :key AND l.granted"
        ),
        {"key": LOCK_KEY},
    )
    return str(name or "").removeprefix(f"{APPLICATION}: ")
