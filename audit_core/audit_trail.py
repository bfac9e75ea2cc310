"""The append-only audit trail: one event for every change, in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from audit_core.models import AuditEvent


def record(
    session: Session,
    *,
    now: dt.datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    round_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an event to the caller's transaction; it commits (or not) with the change."""
    event = AuditEvent(
        at=now,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        round_id=round_id,
        details=details or {},
    )
    session.add(event)
    return event


def events(
    session: Session, *, object_type: str | None = None, round_id: str | None = None
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if object_type is not None:
        query = query.where(AuditEvent.object_type == object_type)
    if round_id is not None:
        query = query.where(AuditEvent.round_id == round_id)
    return list(session.scalars(query))


def record_many(
    session: Session,
    *,
    now: dt.datetime,
    actor: str,
    action: str,
    object_type: str,
    events: Sequence[tuple[str | int, dict[str, Any]]],
    round_id: str | None = None,
) -> int:
    """Add many events of one kind, as (object id, details), in one bulk INSERT.

    For changes made in bulk (a register of thousands of cases); same transaction rule
    as :func:`record`. Returns the number of events added.
    """
    if events:
        session.execute(
            insert(AuditEvent.__table__),  # type: ignore[arg-type]
            [
                {
                    "at": now,
                    "actor": actor,
                    "action": action,
                    "object_type": object_type,
                    "object_id": str(object_id),
                    "round_id": round_id,
                    "details": details,
                }
                for object_id, details in events
            ],
        )
    return len(events)
