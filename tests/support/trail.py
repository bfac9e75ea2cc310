"""Reading the audit trail back in tests (the application only ever writes it)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_core.domain.models import AuditEvent


def events(
    session: Session, object_type: str | None = None, round_id: str | None = None
) -> list[AuditEvent]:
    """The audit events, oldest first; only those of one object type or round if asked."""
    query = select(AuditEvent).order_by(AuditEvent.id)
    if object_type is not None:
        query = query.where(AuditEvent.object_type == object_type)
    if round_id is not None:
        query = query.where(AuditEvent.round_id == round_id)
    return list(session.scalars(query))
