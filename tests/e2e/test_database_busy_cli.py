"""A command run while another process holds the SQLite database locked waits for the bound
(``AUDITROUND_DATABASE_RETRY_SECONDS``), then stops with one sentence and exit code 2, never
a traceback (the CLI in a subprocess)."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support import CONFIG_DIR, MAIL_FROM, PROJECT, PUBLIC_URL
from support.rounds import queue_notes

from audit_core.adapters import db
from audit_core.adapters.mail_render import EmailComposer
from audit_core.adapters.smtp_sink import Sink
from audit_core.domain.models import CaseFile, OutboxMessage
from audit_core.domain.policy import BoardConfig
from audit_core.services.ports import Mail
from audit_core.services.unit_of_work import UnitOfWork

EXAMPLE = PROJECT / "examples" / "case_register.csv"
LOCKED = (
    "Error: The database is locked by another process and stayed locked for 0.5 s, so the "
    "{what} stopped"
)


def auditround(url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("AUDITROUND_")}
    full.update(
        {
            "AUDITROUND_DATABASE_URL": url,
            "AUDITROUND_CONFIG": str(CONFIG_DIR),
            "AUDITROUND_DATABASE_RETRY_SECONDS": "0.5",
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "audit_core", "--now", "2026-03-02T10:00", *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=PROJECT,
        timeout=120,
    )


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A SQLite database set up by ``auditround db upgrade``."""
    url = f"sqlite:///{tmp_path / 'auditround.db'}"
    made = auditround(url, "db", "upgrade")
    assert made.returncode == 0, made.stderr
    return url


@pytest.fixture
def locked(database: str) -> Iterator[str]:
    """The database, with a write transaction held open by another process meanwhile."""
    holder = sqlite3.connect(database.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    yield database
    holder.execute("ROLLBACK")
    holder.close()


def said(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stdout + result.stderr
    return " ".join(result.stderr.split())


def test_an_import_into_a_locked_database_stops_with_one_sentence(locked: str) -> None:
    result = auditround(locked, "cases", "import", str(EXAMPLE))

    assert result.returncode == 2
    assert LOCKED.format(what="command") in said(result)
    assert "what it had not saved yet was rolled back" in said(result)
    assert "db upgrade" not in said(result)
    engine = db.make_engine(locked)
    with db.session_factory(engine)() as session:  # a reader is not kept out (WAL)
        assert session.scalar(select(func.count()).select_from(CaseFile)) == 0
    engine.dispose()


def test_a_dispatch_from_a_locked_database_stops_with_one_sentence_and_claims_nothing(
    database: str, config: BoardConfig, sink: Sink
) -> None:
    engine = db.make_engine(database)
    mail = Mail(EmailComposer(installation=db.installation_id(engine)), MAIL_FROM, PUBLIC_URL)
    with db.transaction(engine) as session:
        at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
        queue_notes(UnitOfWork(session, config, at, "alice", mail), 3)
    holder = sqlite3.connect(database.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    mail_env = {
        **sink.env(),
        "AUDITROUND_MAIL_FROM": MAIL_FROM,
        "AUDITROUND_PUBLIC_URL": PUBLIC_URL,
    }
    try:
        result = auditround(database, "outbox", "dispatch", **mail_env)
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert result.returncode == 2
    assert LOCKED.format(what="dispatch") in said(result)
    assert "no message was sent; what is not sent waits in the outbox" in said(result)
    with db.session_factory(engine)() as session:
        statuses = set(session.scalars(select(OutboxMessage.status)))
    assert statuses == {"queued"} and sink.count == 0
    engine.dispose()


def test_a_wrong_retry_setting_is_named(database: str) -> None:
    result = auditround(database, "round", "list", AUDITROUND_DATABASE_RETRY_SECONDS="soon")

    assert result.returncode != 0
    assert "AUDITROUND_DATABASE_RETRY_SECONDS is 'soon': use a number of seconds" in said(result)
