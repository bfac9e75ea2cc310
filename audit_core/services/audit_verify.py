"""Checking the audit trail: is every event as it was written, in its place, none missing?

:func:`verify_trail` reads the chain head and every event in one statement (one
snapshot, even while others write), oldest first, a batch at a time, and hands
them to :func:`audit_core.domain.trail.check`, which recomputes each hash and
names the first broken link.
"""

from __future__ import annotations

import itertools

from sqlalchemy import Table, select, true
from sqlalchemy.orm import Session

from audit_core.domain.models import AuditChain, AuditEvent
from audit_core.domain.trail import GENESIS, Break, TrailCheck, check

_events: Table = AuditEvent.__table__  # type: ignore[assignment]
_head: Table = AuditChain.__table__  # type: ignore[assignment]
_TRAIL = (
    select(_head.c.last_seq, _head.c.last_hash, _events)
    .select_from(_head.outerjoin(_events, true()))  # the head alone when there is no event
    .where(_head.c.id == 1)
    .order_by(_events.c.seq)
)
BATCH = 2000


def verify_trail(session: Session, noted: tuple[int, str] | None = None) -> TrailCheck:
    """Check the whole audit trail against its hashes and its head; and, if a place and hash
    were ``noted`` earlier, that the event there still has it."""
    rows = iter(session.execute(_TRAIL, execution_options={"yield_per": BATCH}).mappings())
    first = next(rows, None)
    if first is None:
        return TrailCheck(0, 0, GENESIS, Break("no_head", 0))
    events = (dict(row) for row in itertools.chain([first], rows) if row["seq"] is not None)
    return check(first["last_seq"], first["last_hash"], events, noted)
