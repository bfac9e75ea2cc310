"""On PostgreSQL the application runs as a role that does not own the tables: it can run a
round and add to the audit trail, but it cannot switch the trail's triggers off or rewrite it.

These tests are about PostgreSQL's roles; on SQLite (a file: whoever can write it can change
it) they are skipped, and ``make test-postgres`` runs them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session
from support.databases import as_role, empty_database, login_role
from support.rounds import delivered_round
from typer.testing import CliRunner

from audit_core.adapters import db
from audit_core.adapters.settings import Settings, SmtpSettings
from audit_core.adapters.smtp_sink import Sink
from audit_core.bootstrap import App
from audit_core.cli import app as cli
from audit_core.domain.errors import SettingError
from audit_core.domain.policy import BoardConfig
from audit_core.services.ports import Mail
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

REFUSED = "permission denied|must be owner|only moves forward|append-only"


def _postgres(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("roles are a PostgreSQL matter")


@pytest.fixture
def app_engine(engine: Engine, config: BoardConfig) -> Iterator[Engine]:
    """An engine connected as a new login role, granted as docs/postgresql.md says (by the
    owner of the tables, with ``auditround db grant``)."""
    _postgres(engine)
    with login_role(engine) as (role, password):
        App(config=config, engine=engine).grant_application_role(role)
        connected = db.make_engine(as_role(str(engine.url), role, password))
        yield connected
        connected.dispose()


@pytest.mark.parametrize(
    "attempt",
    [
        "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only",
        "ALTER TABLE audit_event DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_event_append_only ON audit_event",
        "SET session_replication_role = replica",
        "UPDATE audit_event SET actor = 'mallory'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
        "ALTER TABLE audit_chain DISABLE TRIGGER ALL",
        "UPDATE audit_chain SET last_seq = 0",
        "DELETE FROM audit_chain",
        "DROP TABLE audit_event CASCADE",
        "CREATE TABLE audit_event_copy (id integer)",
    ],
)
def test_the_application_role_cannot_switch_the_trail_off_or_rewrite_it(
    app_engine: Engine, config: BoardConfig, now: dt.datetime, attempt: str
) -> None:
    with db.transaction(app_engine) as session:
        UnitOfWork(session, config, now, "alice").record("created", "audit_round", "2026-H1")
    with pytest.raises(DatabaseError, match=REFUSED), app_engine.begin() as conn:
        conn.execute(text(attempt))
    with app_engine.connect() as conn:
        assert conn.execute(text("SELECT actor FROM audit_event")).scalars().all() == ["alice"]
    assert App(config=config, engine=app_engine).verify_trail().checked == 1


def test_the_application_role_runs_a_round_and_its_trail_verifies(
    app_engine: Engine,
    config: BoardConfig,
    now: dt.datetime,
    mail: Mail,
    mail_settings: SmtpSettings,
    sink: Sink,
) -> None:
    app = App(config=config, engine=app_engine, smtp=mail_settings, clock=lambda: now)
    with Session(app_engine, expire_on_commit=False) as session:
        received = delivered_round(UnitOfWork(session, config, now, "alice", mail), app, sink)
    assert received
    checked = app.verify_trail()
    assert checked.intact, checked.sentence()
    assert checked.checked > len(received)


def test_a_role_that_could_switch_the_triggers_off_is_not_granted(
    engine: Engine, config: BoardConfig
) -> None:
    _postgres(engine)
    owner = engine.url.username or "postgres"  # the tests connect as the owner of the tables
    with pytest.raises(SettingError, match="could switch the audit trail's triggers off"):
        App(config=config, engine=engine).grant_application_role(owner)


def test_the_documented_set_up_from_an_empty_database(
    engine: Engine, database_url: str, config: BoardConfig, now: dt.datetime
) -> None:
    """The owner migrates (``AUDITROUND_MIGRATION_DATABASE_URL``) and grants; the application,
    connected as its own role, records and verifies. The role alone could not have migrated."""
    _postgres(engine)
    with login_role(engine) as (role, password), empty_database(database_url) as owner_url:
        app_url = as_role(owner_url, role, password)
        alone = App(Settings(database_url=app_url), config=config, clock=lambda: now)
        with pytest.raises(DatabaseError, match="permission denied"):
            alone.upgrade_database()
        alone.close()

        settings = Settings(database_url=app_url, migration_database_url=owner_url)
        app = App(settings, config=config, clock=lambda: now)
        app.upgrade_database()
        app.grant_application_role(role)
        with app.unit_of_work() as uow:
            uow.record("created", "audit_round", "2026-H1")
        assert app.verify_trail().checked == 1
        with pytest.raises(DatabaseError, match="must be owner"), app.engine().begin() as conn:
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER ALL"))
        app.close()


def test_migrations_are_refused_for_another_database_than_the_applications(
    database_url: str, config: BoardConfig, now: dt.datetime
) -> None:
    other = database_url.rsplit("/", 1)[0] + "/another"
    settings = Settings(database_url=database_url, migration_database_url=other)
    with pytest.raises(SettingError, match="names another database than the application's"):
        App(settings, config=config, clock=lambda: now).upgrade_database()


def test_db_grant_sql_prints_what_the_application_role_may_do(engine: Engine, cli_env: str) -> None:
    _postgres(engine)
    with login_role(engine) as (role, _password):
        result = CliRunner().invoke(cli, ["db", "grant", role, "--sql"])
        assert result.exit_code == 0, result.output
        statements = result.output.splitlines()
        assert f"GRANT SELECT, INSERT ON public.audit_event TO {role};" in statements
        assert f"GRANT SELECT, UPDATE ON public.audit_chain TO {role};" in statements
        assert f"GRANT SELECT, INSERT, UPDATE, DELETE ON public.outbox_message TO {role};" in (
            statements
        )
        with engine.connect() as conn:  # printed, not run
            granted = text("SELECT has_table_privilege(:role, 'audit_event', 'INSERT')")
            assert conn.execute(granted, {"role": role}).scalar() is False
