"""A precompiled statement stores and reads values exactly as the ORM does."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, bindparam, insert, select
from sqlalchemy.orm import Session

from audit_core.models import AuditEvent, Base
from audit_core.precompiled import Precompiled, driver_cursor

EVENTS = Base.metadata.tables["audit_event"]
WHEN = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # no microseconds: the tricky case

RECORD = insert(EVENTS).values(
    at=bindparam("b_at", type_=EVENTS.c.at.type),
    actor="test",
    action=bindparam("b_action"),
    object_type="outbox_message",
    object_id="1",
    details=bindparam("b_details", type_=EVENTS.c.details.type),
)
SINCE = select(EVENTS.c.action, EVENTS.c.at, EVENTS.c.details).where(
    EVENTS.c.at >= bindparam("b_since", type_=EVENTS.c.at.type), EVENTS.c.action == "by orm"
)


def test_values_written_through_the_driver_read_back_through_the_orm(
    engine: Engine, session: Session
) -> None:
    statement = Precompiled(RECORD, engine.dialect)
    with engine.connect() as conn, conn.begin():
        cursor = driver_cursor(conn)
        changed = statement.run(
            cursor, {"b_at": WHEN, "b_action": "by driver", "b_details": {"to": ["a@b.org"]}}
        )
        cursor.close()

    event = session.scalars(select(AuditEvent)).one()
    assert changed == 1
    assert (event.at, event.action, event.details) == (WHEN, "by driver", {"to": ["a@b.org"]})


def test_values_written_through_the_orm_are_found_and_read_through_the_driver(
    engine: Engine, session: Session
) -> None:
    session.add(
        AuditEvent(
            at=WHEN,
            actor="test",
            action="by orm",
            object_type="outbox_message",
            object_id="1",
            details={"attempts": 2},
        )
    )
    session.commit()
    statement = Precompiled(SINCE, engine.dialect)
    with engine.connect() as conn, conn.begin():
        cursor = driver_cursor(conn)
        found = statement.one_or_none(cursor, {"b_since": WHEN})
        later = statement.one_or_none(cursor, {"b_since": WHEN + dt.timedelta(microseconds=1)})
        cursor.close()

    assert found is not None and later is None
    action, at, details = found
    assert (action, details) == ("by orm", {"attempts": 2})
    assert at == WHEN  # stored as naive UTC, read back aware, as the ORM does
