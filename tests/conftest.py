"""Shared fixtures: a real, migrated database per test, the example config, a fixed clock,
a unit of work over them, a real SMTP server on loopback, and the composition root wired
to all of these.

The database is SQLite by default. Set ``AUDITROUND_TEST_DATABASE_URL`` (as
``.ci/run`` does) to run the same tests on PostgreSQL; if that server cannot
be reached the tests fail, they are not skipped.

Layers: ``unit/`` (no IO), ``integration/`` (real databases, SMTP, files),
``e2e/`` (the CLI through a subprocess, and the flows). ``support/`` holds the
shared builders (a planned round, a launched round, scripted mail servers).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from support import CONFIG_DIR, LONDON, MAIL_FROM, PUBLIC_URL
from support.databases import empty_database

from audit_core.adapters import db, smtp_sink
from audit_core.adapters.config import load_config
from audit_core.adapters.mail_render import EmailComposer
from audit_core.adapters.settings import SmtpSettings
from audit_core.adapters.smtp_sink import Sink, SinkHandler
from audit_core.bootstrap import App
from audit_core.domain.models import Base
from audit_core.domain.policy import BoardConfig
from audit_core.domain.trail import GENESIS
from audit_core.services.ports import BriefingRenderer, Mail
from audit_core.services.unit_of_work import UnitOfWork

__all__ = ["LONDON"]  # for tests that still import it from here

# Tests write only under temporary folders: Prefect's home too.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="auditround-test-prefect-"))
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def test_database_url() -> str | None:
    return os.environ.get("AUDITROUND_TEST_DATABASE_URL") or None


@pytest.fixture(scope="session")
def config() -> BoardConfig:
    return load_config(CONFIG_DIR)


@pytest.fixture
def now() -> dt.datetime:
    """Monday 2 March 2026, 09:00 London time."""
    return dt.datetime(2026, 3, 2, 9, 0, tzinfo=LONDON)


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once per test session: a template SQLite file, or the PostgreSQL schema."""
    url = test_database_url()
    if url is None:
        path = tmp_path_factory.mktemp("db") / "template.db"
        engine = db.make_engine(f"sqlite:///{path}")
        db.upgrade(engine)
        engine.dispose()
        return str(path)
    engine = db.make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except Exception as exc:  # a PostgreSQL run that cannot reach its server must fail
        pytest.fail(f"cannot reach the test database {url}: {exc}", pytrace=False)
    db.upgrade(engine)
    engine.dispose()
    return url


def _empty_postgres(engine: Engine) -> None:
    # everything but the installation's id, which the migrations made with the database, and
    # the audit trail's head, which goes back to the start of an empty trail
    kept = {"installation", "audit_chain"}
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables if t.name not in kept)
    with engine.begin() as conn:
        # the append-only triggers on audit_event and audit_chain must not stop a clean-up
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(text(f"UPDATE audit_chain SET last_seq = 0, last_hash = '{GENESIS}'"))


@pytest.fixture
def database_url(_migrated_template: str, tmp_path: Path) -> str:
    """The URL of a freshly migrated, empty database for this test."""
    if test_database_url() is None:
        path = tmp_path / "auditround.db"
        shutil.copyfile(_migrated_template, path)
        return f"sqlite:///{path}"
    return _migrated_template


@pytest.fixture
def empty_engine(tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    """An empty database of the kind under test, thrown away afterwards."""
    url = os.environ.get("AUDITROUND_TEST_DATABASE_URL")
    if not url:
        engine = db.make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    with empty_database(url) as empty:
        engine = db.make_engine(empty)
        yield engine
        engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    if engine.dialect.name == "postgresql":
        _empty_postgres(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with db.session_factory(engine)() as session:
        yield session


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return db.session_factory(engine)


@pytest.fixture
def installation(engine: Engine) -> str:
    """The test database's installation id (in every Message-ID)."""
    return db.installation_id(engine)


@pytest.fixture
def mail(installation: str) -> Mail:
    """What use cases need to write email: the real composer, a sender, a public address."""
    return Mail(EmailComposer(installation=installation), MAIL_FROM, PUBLIC_URL)


@pytest.fixture
def make_uow(
    session: Session, config: BoardConfig, now: dt.datetime, mail: Mail
) -> Callable[..., UnitOfWork]:
    """A unit of work over the test's session; ``actor`` and ``now`` may be changed."""

    def make(actor: str = "alice", at: dt.datetime | None = None) -> UnitOfWork:
        return UnitOfWork(session, config, at or now, actor, mail)

    return make


@pytest.fixture
def uow(make_uow: Callable[..., UnitOfWork]) -> UnitOfWork:
    """Alice of the business unit, at the test's fixed time."""
    return make_uow()


@pytest.fixture
def sink() -> Iterator[Sink]:
    """A real SMTP server on loopback that accepts everything and keeps it in memory."""
    with smtp_sink.running() as running:
        yield running


@pytest.fixture
def mail_settings(sink: Sink) -> SmtpSettings:
    return sink.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL)


@pytest.fixture
def start_sink() -> Iterator[Callable[[SinkHandler], Sink]]:
    """Start a sink with a chosen handler; every sink started is stopped after the test."""
    started: list[Sink] = []

    def start(handler: SinkHandler) -> Sink:
        running = smtp_sink.start(handler)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def make_app(engine: Engine, config: BoardConfig, now: dt.datetime) -> Callable[..., App]:
    """The composition root over the test's database, with a fixed clock and mail settings."""

    def make(smtp: SmtpSettings | None = None, at: dt.datetime | None = None) -> App:
        when = at or now
        return App(config=config, engine=engine, smtp=smtp, clock=lambda: when)

    return make


@pytest.fixture
def app(make_app: Callable[..., App], mail_settings: SmtpSettings) -> App:
    """The composition root, sending to the test's sink."""
    return make_app(mail_settings)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, engine: Engine) -> str:
    """Point the CLI at this test's database and the example configuration."""
    monkeypatch.setenv("AUDITROUND_DATABASE_URL", database_url)
    monkeypatch.setenv("AUDITROUND_CONFIG", str(CONFIG_DIR))
    monkeypatch.delenv("AUDITROUND_NOW", raising=False)
    return database_url


DATABASE_FIXTURES = frozenset({"database_url", "engine", "session", "cli_env", "uow", "app"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that touches the database is marked ``database``, so the PostgreSQL run has it."""
    for item in items:
        if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.database)


@pytest.fixture
def renderer(make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch) -> BriefingRenderer:
    """The composition root's briefing renderer, with the example configuration's branding."""
    monkeypatch.setenv("AUDITROUND_CONFIG", str(CONFIG_DIR))
    return make_app().briefing_renderer()
