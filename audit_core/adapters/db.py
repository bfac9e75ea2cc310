"""Database adapter: engine, session factory and migrations.

SQLite is the default (``./var/auditround.db``, WAL mode, foreign keys on,
``synchronous=NORMAL``: in WAL mode a commit then survives a crash of the
process, and only a power cut can lose the last commits, never corrupt the file);
PostgreSQL is used when ``AUDITROUND_DATABASE_URL`` names it, for example
``postgresql+psycopg://auditround@db.example.org/auditround``.

A database that is busy or out of reach is waited for, for a bounded time
(``AUDITROUND_DATABASE_RETRY_SECONDS``, 30 s by default, kept with the engine):
SQLite waits that long for another process's write lock; PostgreSQL checks a
pooled connection before it is used (``pool_pre_ping``) and tries a connection
the server refuses again until then. :func:`retrying` runs a short
transaction again after such an error, and :func:`explained` turns what is
left into one sentence (:class:`DatabaseUnavailable` for a database that was
locked or lost).
"""

from __future__ import annotations

import functools
import logging
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.orm import Session, sessionmaker

from audit_core.domain.errors import AuditRoundError, DatabaseUnavailable, SettingError

log = logging.getLogger(__name__)
_T = TypeVar("_T")

DEFAULT_SQLITE_PATH = Path("var") / "auditround.db"
MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_RETRY_SECONDS = 30.0
_RETRY_OPTION = "auditround_retry_seconds"  # the engine's bound, in its execution options


def default_url() -> str:
    """SQLite at ``./var/auditround.db`` (the folder is made if needed)."""
    DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def make_engine(
    url: str = "", *, retry_seconds: float = DEFAULT_RETRY_SECONDS, **kwargs: Any
) -> Engine:
    """The engine for ``url``, waiting up to ``retry_seconds`` for a busy or lost database;
    a malformed URL, an unknown database or a driver that is not installed is a
    :class:`SettingError` naming ``AUDITROUND_DATABASE_URL`` and the form."""
    url = url or default_url()
    kwargs["execution_options"] = {
        **kwargs.get("execution_options", {}),
        _RETRY_OPTION: retry_seconds,
    }
    try:
        if url.startswith("sqlite"):
            kwargs.setdefault("connect_args", {"timeout": retry_seconds})
            engine = create_engine(url, **kwargs)
            pragmas = functools.partial(_sqlite_pragmas, busy_ms=int(retry_seconds * 1000))
            event.listen(engine, "connect", pragmas)
            return engine
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
        event.listen(engine, "do_connect", functools.partial(_connect_patiently, retry_seconds))
        return engine
    except NoSuchModuleError:
        scheme = url.partition(":")[0]
        raise _wrong_url(url, f"names no database auditround can use ('{scheme}')") from None
    except ArgumentError:
        raise _wrong_url(url, "is not a database URL") from None
    except ImportError as exc:
        missing = exc.name or str(exc)
        raise _wrong_url(url, f"needs a driver that is not installed ({missing})") from None
    except ValueError:  # a port that is not a number, for instance
        raise _wrong_url(url, "is not a database URL") from None


URL_FORMS = "sqlite:///path/to/auditround.db or postgresql+psycopg://user@host/database"


def _wrong_url(url: str, why: str) -> SettingError:
    shown = re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)  # never print a password
    return SettingError(
        f"The database setting AUDITROUND_DATABASE_URL (or --database) '{shown}' {why}: "
        f"use {URL_FORMS}."
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, busy_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")  # first: WAL mode may wait for a lock
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _connect_patiently(seconds: float, dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    """A new PostgreSQL connection, tried again while the server refuses it for a while."""
    return retrying(lambda: dialect.connect(*cargs, **cparams), seconds=seconds)


# --- a busy or lost database -------------------------------------------------------------

Transient = Literal["locked", "lost", "conflict"]
_LOST_STATES = frozenset({"57P01", "57P02", "57P03"})  # admin/crash shutdown, cannot connect now
_CONFLICT_STATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock
_LOCKED_STATES = frozenset({"55P03"})  # lock not available
_SERVER_BUSY = (
    "starting up",
    "shutting down",
    "recovery mode",
    "too many clients",
    "not currently accepting connections",
)


def transient(error: BaseException) -> Transient | None:
    """What passes if the same work is tried again later: the database was locked by another
    process, the connection was lost (or refused for a while), or a concurrent change
    conflicted. ``None`` for any other error. ``error`` may be SQLAlchemy's or the driver's."""
    invalidated = isinstance(error, DBAPIError) and error.connection_invalidated
    orig = (error.orig if isinstance(error, DBAPIError) else None) or error
    if isinstance(orig, sqlite3.OperationalError):
        text = str(orig)
        return "locked" if "locked" in text or "busy" in text else None
    state = getattr(orig, "sqlstate", None)
    if invalidated or state in _LOST_STATES or (state or "").startswith("08"):
        return "lost"
    if state in _CONFLICT_STATES:
        return "conflict"
    if state in _LOCKED_STATES:
        return "locked"
    if state is None and _driver_operational(orig):  # libpq: refused, closed, timed out
        text = str(orig)
        refused_for_good = "FATAL:" in text and not any(b in text for b in _SERVER_BUSY)
        return None if refused_for_good or "translate host name" in text else "lost"
    return None


def _driver_operational(orig: BaseException) -> bool:
    """A psycopg ``OperationalError`` (psycopg itself is imported only by PostgreSQL users)."""
    return any(
        cls.__name__ == "OperationalError" and cls.__module__.startswith("psycopg")
        for cls in type(orig).__mro__
    )


def retry_seconds(engine: Engine) -> float:
    """How long work on ``engine`` waits for a busy or lost database."""
    return float(engine.get_execution_options().get(_RETRY_OPTION, DEFAULT_RETRY_SECONDS))


def retrying(work: Callable[[], _T], *, seconds: float) -> _T:
    """``work()``, run again after a :func:`transient` error, with a pause growing from
    50 ms to 2 s, until ``seconds`` have passed since it began (the last try at that
    moment); then that error is raised. ``work`` must be safe to run again: one
    transaction, rolled back when it failed, with nothing done outside the database."""
    deadline = time.monotonic() + seconds
    pause = 0.05
    while True:
        try:
            return work()
        except Exception as exc:
            kind, remaining = transient(exc), deadline - time.monotonic()
            if kind is None or remaining <= 0:
                raise
            if pause == 0.05:  # said once; the user sees why the command waits
                log.warning(
                    "the database is %s (%s); trying again for up to %g s",
                    _STATE[kind],
                    _first_line(exc),
                    seconds,
                )
        time.sleep(min(pause, remaining))  # the last try comes at the deadline
        pause = min(pause * 2, 2.0)


_STATE = {"locked": "locked", "lost": "out of reach", "conflict": "busy with a conflicting change"}
_AGAIN = {
    "locked": "when the other process has finished",
    "lost": "once the database server can be reached",
    "conflict": "now",
}


def why_unavailable(error: BaseException, seconds: float, *, retried: bool = True) -> str:
    """The first half of the sentence for a :func:`transient` error: what the database did,
    and how long it was waited for (``retried``: the work itself was tried again)."""
    kind, since, reason = transient(error), f"{seconds:g} s", _first_line(error)
    invalidated = isinstance(error, DBAPIError) and error.connection_invalidated
    if kind == "locked":
        return f"The database is locked by another process and stayed locked for {since}"
    if kind == "conflict":
        if retried:
            return f"The database refused the change for {since}: other changes kept conflicting"
        return "The database refused the change: another change conflicted with it"
    if invalidated and retried:
        return f"The connection to the database was lost and could not be made again within {since}"
    if invalidated:
        return f"The connection to the database was lost ({reason})"
    return f"The database could not be reached within {since} ({reason})"


def try_again(error: BaseException) -> str:
    return f"Try again {_AGAIN[transient(error) or 'lost']}."


def explain(error: DBAPIError, seconds: float, *, schema: bool = True) -> AuditRoundError | None:
    """One sentence for a database error a user can meet, or ``None`` for a bug.

    A command's transaction is not run again (its work may not be safe to repeat): the
    wait is the database's own (SQLite's lock timeout, PostgreSQL's patient connect)."""
    if transient(error) is not None:
        return DatabaseUnavailable(
            f"{why_unavailable(error, seconds, retried=False)}, so the command stopped and "
            f"what it had not saved yet was rolled back. {try_again(error)}"
        )
    if schema and _schema_behind(error):
        return AuditRoundError(
            "The database's tables are missing or older than this version of auditround: "
            "run 'auditround db upgrade' first."
        )
    if isinstance(error, OperationalError):
        return DatabaseUnavailable(
            f"The database could not be used ({_first_line(error)}): check "
            "AUDITROUND_DATABASE_URL (or --database)."
        )
    return None


def _schema_behind(error: DBAPIError) -> bool:
    """A table or column this version needs is not there: migrations have not been run."""
    if isinstance(error.orig, sqlite3.OperationalError):
        return str(error.orig).startswith(("no such table", "no such column"))
    return isinstance(error, ProgrammingError) and getattr(error.orig, "sqlstate", None) in (
        "42P01",  # undefined table
        "42703",  # undefined column
    )


def _first_line(error: BaseException) -> str:
    orig = (error.orig if isinstance(error, DBAPIError) else None) or error
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


@contextmanager
def explained(engine: Engine, *, schema: bool = True) -> Iterator[None]:
    """Raise a database error a user can meet as its one sentence (see :func:`explain`);
    ``schema=False`` where a missing table is not the user's (a migration, for instance)."""
    try:
        yield
    except DBAPIError as exc:
        sentence = explain(exc, retry_seconds(engine), schema=schema)
        if sentence is None:
            raise
        raise sentence from exc


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error (a database error a user
    can meet is raised as its sentence)."""
    with explained(engine), session_factory(engine)() as session, session.begin():
        yield session


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config as AlembicConfig  # only the commands that migrate need it

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (the newest by default)."""
    from alembic import command

    with explained(engine, schema=False):
        command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with explained(engine, schema=False), engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_migrated(engine: Engine) -> bool:
    with explained(engine, schema=False):
        return "audit_event" in inspect(engine).get_table_names()


def installation_id(engine: Engine) -> str:
    """This installation's random id (made when the database was created)."""
    from sqlalchemy import select

    from audit_core.domain.models import Installation

    with explained(engine), engine.connect() as conn:
        found = conn.scalar(select(Installation.installation_id).where(Installation.id == 1))
    if not found:
        raise RuntimeError("the database has no installation id: run 'auditround db upgrade'")
    return str(found)
