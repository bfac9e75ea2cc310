"""The schema is built by Alembic migrations, from empty, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session

from audit_core.adapters import db
from audit_core.domain.models import AuditEvent, Base
from audit_core.services.audit_verify import verify_trail


@pytest.mark.database
def test_it_builds_every_table_from_an_empty_database(empty_engine: Engine) -> None:
    assert db.current_revision(empty_engine) is None
    db.upgrade(empty_engine)
    tables = set(inspect(empty_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert db.current_revision(empty_engine) is not None


@pytest.mark.database
def test_the_migrations_match_the_model(empty_engine: Engine) -> None:
    db.upgrade(empty_engine)
    with empty_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


@pytest.mark.database
def test_it_downgrades_to_empty_and_upgrades_again(empty_engine: Engine) -> None:
    db.upgrade(empty_engine)
    db.downgrade(empty_engine, "base")
    leftover = set(inspect(empty_engine).get_table_names()) - {"alembic_version"}
    assert leftover == set()
    db.upgrade(empty_engine)
    assert "audit_event" in inspect(empty_engine).get_table_names()


@pytest.mark.database
def test_upgrading_twice_changes_nothing(empty_engine: Engine) -> None:
    db.upgrade(empty_engine)
    first = db.current_revision(empty_engine)
    db.upgrade(empty_engine)
    assert db.current_revision(empty_engine) == first


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = db.make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


@pytest.mark.database
def test_the_events_recorded_before_the_trail_was_chained_are_chained_in_their_order(
    empty_engine: Engine,
) -> None:
    db.upgrade(empty_engine, "0002")
    with empty_engine.begin() as conn:
        for n, actor in enumerate(("alice", "bob", "charlie")):
            conn.execute(
                text(
                    "INSERT INTO audit_event (at, actor, action, object_type, object_id, details) "
                    "VALUES (:at, :actor, 'updated', 'case_file', :n, :details)"
                ),
                {
                    "at": f"2026-03-02 09:0{n}:00.000000",
                    "actor": actor,
                    "n": str(n),
                    "details": json.dumps({"fields": ["flags"], "n": n}),
                },
            )
    db.upgrade(empty_engine)
    with Session(empty_engine) as session:
        checked = verify_trail(session)
        chained = session.execute(select(AuditEvent.actor, AuditEvent.seq).order_by(AuditEvent.id))
        assert [tuple(row) for row in chained] == [("alice", 1), ("bob", 2), ("charlie", 3)]
    assert checked.intact, checked.sentence()
    assert checked.checked == 3
