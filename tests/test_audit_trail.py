"""Every change leaves an audit event, and the audit trail cannot be rewritten."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from audit_core import audit_trail, db
from audit_core.models import AuditEvent

pytestmark = pytest.mark.database


def _one_event(engine: Engine, now: dt.datetime) -> int:
    with db.transaction(engine) as session:
        event = audit_trail.record(
            session,
            now=now,
            actor="alice",
            action="created",
            object_type="audit_round",
            object_id="2026-H1",
            round_id="2026-H1",
            details={"focus": "think-family"},
        )
        session.flush()
        return event.id


def test_an_event_records_who_did_what_to_which_object_and_when(
    engine: Engine, now: dt.datetime
) -> None:
    _one_event(engine, now)
    with db.session_factory(engine)() as session:
        (event,) = audit_trail.events(session, round_id="2026-H1")
    assert (event.actor, event.action, event.object_type, event.object_id) == (
        "alice",
        "created",
        "audit_round",
        "2026-H1",
    )
    assert event.at == now.astimezone(dt.UTC)
    assert event.details == {"focus": "think-family"}


def test_an_event_is_lost_with_the_change_it_describes(engine: Engine, now: dt.datetime) -> None:
    with pytest.raises(RuntimeError), db.transaction(engine) as session:
        audit_trail.record(
            session, now=now, actor="bob", action="updated", object_type="case_file", object_id=1
        )
        raise RuntimeError("the change failed")
    with db.session_factory(engine)() as session:
        assert audit_trail.events(session) == []


def test_events_cannot_be_changed(engine: Engine, now: dt.datetime) -> None:
    event_id = _one_event(engine, now)
    with pytest.raises(DatabaseError, match="append-only"), db.transaction(engine) as session:
        session.execute(update(AuditEvent).where(AuditEvent.id == event_id).values(actor="mallory"))
    with Session(engine) as session:
        assert session.scalars(select(AuditEvent.actor)).all() == ["alice"]


def test_events_cannot_be_deleted(engine: Engine, now: dt.datetime) -> None:
    _one_event(engine, now)
    with pytest.raises(DatabaseError, match="append-only"), db.transaction(engine) as session:
        session.execute(delete(AuditEvent))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_event")).scalar() == 1
