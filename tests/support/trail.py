"""Reading the audit trail back in tests (the application only ever writes it)."""

from __future__ import annotations

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from audit_core.domain.models import AuditEvent
from audit_core.domain.trail_append import deferred


def events(
    session: Session, object_type: str | None = None, round_id: str | None = None
) -> list[AuditEvent]:
    """The audit events, oldest first; only those of one object type or round if asked.

    The events of the session's own transaction come last: they join the trail (and get
    their ``seq`` and hashes) when it commits.
    """
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if object_type is not None:
        query = query.where(AuditEvent.object_type == object_type)
    if round_id is not None:
        query = query.where(AuditEvent.round_id == round_id)
    waiting = [
        AuditEvent(**e)
        for e in deferred(session)
        if object_type in (None, e["object_type"]) and round_id in (None, e["round_id"])
    ]
    return [*session.scalars(query), *waiting]


def tamper(engine: Engine, *statements: str) -> None:
    """Run SQL on the audit trail as someone who gets round its triggers: on SQLite, whoever
    can write the file (drops them); on PostgreSQL, the owner or a superuser (turns them off
    for the transaction)."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            triggers = conn.scalars(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                    "AND tbl_name IN ('audit_event', 'audit_chain')"
                )
            ).all()
            for name in triggers:
                conn.execute(text(f"DROP TRIGGER {name}"))
        else:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            conn.execute(text(statement))
