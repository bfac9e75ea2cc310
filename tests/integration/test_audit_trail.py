"""Every change leaves an audit event, and the audit trail cannot be rewritten."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session
from support.trail import events

from audit_core.adapters import db
from audit_core.domain.models import AuditEvent
from audit_core.domain.policy import BoardConfig
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database


def _one_event(engine: Engine, config: BoardConfig, now: dt.datetime) -> int:
    with db.transaction(engine) as session:
        event = UnitOfWork(session, config, now, "alice").record(
            "created",
            "audit_round",
            "2026-H1",
            round_id="2026-H1",
            details={"focus": "think-family"},
        )
        session.flush()
        return event.id


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


def test_an_event_is_lost_with_the_change_it_describes(
    engine: Engine, config: BoardConfig, now: dt.datetime
) -> None:
    with pytest.raises(RuntimeError), db.transaction(engine) as session:
        UnitOfWork(session, config, now, "bob").record("updated", "case_file", 1)
        raise RuntimeError("the change failed")
    with db.session_factory(engine)() as session:
        assert events(session) == []


def test_events_cannot_be_changed(engine: Engine, config: BoardConfig, now: dt.datetime) -> None:
    event_id = _one_event(engine, config, now)
    with pytest.raises(DatabaseError, match="append-only"), db.transaction(engine) as session:
        session.execute(update(AuditEvent).where(AuditEvent.id == event_id).values(actor="mallory"))
    with Session(engine) as session:
        assert session.scalars(select(AuditEvent.actor)).all() == ["alice"]


def test_events_cannot_be_deleted(engine: Engine, config: BoardConfig, now: dt.datetime) -> None:
    _one_event(engine, config, now)
    with pytest.raises(DatabaseError, match="append-only"), db.transaction(engine) as session:
        session.execute(delete(AuditEvent))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_event")).scalar() == 1
