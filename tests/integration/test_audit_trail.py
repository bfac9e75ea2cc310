"""Every change leaves an audit event, and the audit trail cannot be rewritten."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session
from support.trail import events

from audit_core.adapters import db
from audit_core.domain.models import AuditChain, AuditEvent
from audit_core.domain.policy import BoardConfig
from audit_core.domain.trail import GENESIS
from audit_core.services.audit_verify import verify_trail
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

COLUMNS = "id, at, actor, action, object_type, object_id, round_id, details, seq, prev_hash, hash"
FORGED = (  # every event again, under another actor
    "SELECT id, at, 'mallory', action, object_type, object_id, round_id, details, seq, "
    "prev_hash, hash FROM audit_event"
)


def _one_event(engine: Engine, config: BoardConfig, now: dt.datetime, actor: str = "alice") -> None:
    with db.transaction(engine) as session:
        UnitOfWork(session, config, now, actor).record(
            "created",
            "audit_round",
            "2026-H1",
            round_id="2026-H1",
            details={"focus": "think-family"},
        )


def _actors_and_check(engine: Engine) -> tuple[list[str], bool]:
    with Session(engine) as session:
        actors = list(session.scalars(select(AuditEvent.actor).order_by(AuditEvent.seq)))
        return actors, verify_trail(session).intact


def test_an_event_records_who_did_what_to_which_object_and_when(
    engine: Engine, config: BoardConfig, now: dt.datetime
) -> None:
    _one_event(engine, config, now)
    with db.session_factory(engine)() as session:
        (event,) = events(session, round_id="2026-H1")
    assert (event.actor, event.action, event.object_type, event.object_id) == (
        "alice",
        "created",
        "audit_round",
        "2026-H1",
    )
    assert event.at == now.astimezone(dt.UTC)
    assert event.details == {"focus": "think-family"}
    assert (event.seq, event.prev_hash, len(event.hash)) == (1, GENESIS, 64)


def test_an_event_is_lost_with_the_change_it_describes_and_the_trail_goes_on(
    engine: Engine, config: BoardConfig, now: dt.datetime
) -> None:
    with pytest.raises(RuntimeError), db.transaction(engine) as session:
        UnitOfWork(session, config, now, "bob").record("updated", "case_file", 1)
        raise RuntimeError("the change failed")
    with db.session_factory(engine)() as session:
        assert events(session) == []
    _one_event(engine, config, now)
    with db.session_factory(engine)() as session:
        assert [e.seq for e in events(session)] == [1]
    assert _actors_and_check(engine) == (["alice"], True)


def test_events_cannot_be_changed(engine: Engine, config: BoardConfig, now: dt.datetime) -> None:
    _one_event(engine, config, now)
    with pytest.raises(DatabaseError, match="append-only"), db.transaction(engine) as session:
        session.execute(update(AuditEvent).values(actor="mallory"))
    assert _actors_and_check(engine) == (["alice"], True)


def test_events_cannot_be_deleted(engine: Engine, config: BoardConfig, now: dt.datetime) -> None:
    _one_event(engine, config, now)
    with pytest.raises(DatabaseError, match="append-only"), db.transaction(engine) as session:
        session.execute(delete(AuditEvent))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_event")).scalar() == 1


def test_an_event_cannot_be_replaced(engine: Engine, config: BoardConfig, now: dt.datetime) -> None:
    _one_event(engine, config, now)
    if engine.dialect.name == "sqlite":  # REPLACE deletes the row it replaces, without triggers
        attempts = [
            f"REPLACE INTO audit_event ({COLUMNS}) {FORGED}",
            f"INSERT OR REPLACE INTO audit_event ({COLUMNS}) {FORGED}",
        ]
    else:  # PostgreSQL has no REPLACE: MERGE is its way of rewriting rows in place
        attempts = [
            "MERGE INTO audit_event e USING (SELECT 1 AS id) s ON e.id = s.id "
            "WHEN MATCHED THEN UPDATE SET actor = 'mallory'"
        ]
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text(attempt))
    assert _actors_and_check(engine) == (["alice"], True)


def test_an_event_cannot_be_upserted(engine: Engine, config: BoardConfig, now: dt.datetime) -> None:
    _one_event(engine, config, now)
    upsert = (
        f"INSERT INTO audit_event ({COLUMNS}) {FORGED} WHERE true "
        "ON CONFLICT (id) DO UPDATE SET actor = 'mallory'"
    )
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(text(upsert))
    assert _actors_and_check(engine) == (["alice"], True)


def test_the_chain_head_only_moves_forward(
    engine: Engine, config: BoardConfig, now: dt.datetime
) -> None:
    _one_event(engine, config, now)
    _one_event(engine, config, now, actor="bob")
    attempts = [
        update(AuditChain).values(last_seq=1),
        delete(AuditChain),
        text(
            "REPLACE INTO audit_chain (id, last_seq, last_hash) VALUES (1, 1, 'x')"
            if engine.dialect.name == "sqlite"
            else "TRUNCATE audit_chain"
        ),
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="only moves forward"), engine.begin() as conn:
            conn.execute(attempt)
    assert _actors_and_check(engine) == (["alice", "bob"], True)


def test_events_rolled_back_to_a_savepoint_are_not_recorded(
    engine: Engine, config: BoardConfig, now: dt.datetime
) -> None:
    with db.transaction(engine) as session:
        uow = UnitOfWork(session, config, now, "alice")
        uow.record("created", "audit_round", "2026-H1")
        with pytest.raises(RuntimeError), session.begin_nested():
            uow.record("created", "audit_round", "2026-H2")
            with session.begin_nested():  # released: its event stays, until the outer goes
                uow.record("created", "audit_round", "2027-H1")
            raise RuntimeError("the change failed")
        with session.begin_nested():
            uow.record("created", "audit_round", "2027-H2")
    with Session(engine) as session:
        kept = session.scalars(select(AuditEvent.object_id).order_by(AuditEvent.seq)).all()
        assert kept == ["2026-H1", "2027-H2"]
        assert verify_trail(session).intact
