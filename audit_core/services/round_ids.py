"""A round's id is its period, and a cancelled period can be planned again.

The round's id (``2026-H1``) is the primary key of ``audit_round`` and is what
every command takes. When a period whose round was cancelled is planned again,
the cancelled round is first moved aside to ``<period>-cancelled-<n>``
(:func:`move_aside`): its row and every row that refers to it (its cases, and
through them its assignments; its emails; briefings, findings, actions) follow
it, and a ``round_renamed`` event says so. The audit trail is append-only, so
the events written before the move keep the period as their round id; the
``round_renamed`` event links the two names.

Emails whose dedupe key names a round (the launch summary, the notice of a
cancellation) use :func:`mail_scope`, so that the period's second round never
meets the first one's key (its Message-ID is derived from the key, and stays
unique).
"""

from __future__ import annotations

from sqlalchemy import Table, delete, insert, literal, select, update

from audit_core.domain.models import AuditRound, Base, RoundStatus
from audit_core.domain.periods import ROUND_ID, aside_id, period_of
from audit_core.services.unit_of_work import UnitOfWork


def _asides(uow: UnitOfWork, period: str) -> list[int]:
    """The numbers of the cancelled rounds of ``period`` already moved aside."""
    ids = uow.session.scalars(
        select(AuditRound.id).where(AuditRound.id.like(f"{period}-cancelled-%"))
    )
    numbers = []
    for round_id in ids:
        match = ROUND_ID.match(round_id)
        if match and match.group(3):
            numbers.append(int(match.group(3)))
    return numbers


def mail_scope(uow: UnitOfWork, audit_round: AuditRound) -> str:
    """A name for this round that no other round has had: its id, and for a period planned
    again after a cancellation, which of its rounds it is (``2026-H1:2``)."""
    if audit_round.id != period_of(audit_round.id):
        return audit_round.id  # already a unique name (2026-H1-cancelled-1)
    earlier = len(_asides(uow, audit_round.id))
    return audit_round.id if not earlier else f"{audit_round.id}:{earlier + 1}"


def move_aside(uow: UnitOfWork, audit_round: AuditRound) -> str:
    """Rename a cancelled round to ``<period>-cancelled-<n>`` so its period can be planned
    again; every row that refers to it follows. Returns the new id."""
    if audit_round.status != RoundStatus.CANCELLED:
        raise ValueError(f"round {audit_round.id} is {audit_round.status}, not cancelled")
    session, old = uow.session, audit_round.id
    new = aside_id(old, max(_asides(uow, old), default=0) + 1)
    session.flush()
    table = Table(AuditRound.__tablename__, Base.metadata)  # the Table itself, for Core
    columns = [column.name for column in table.columns]
    session.execute(
        insert(table).from_select(
            columns,
            select(*(literal(new) if c == "id" else table.c[c] for c in columns)).where(
                table.c.id == old
            ),
        )
    )
    for other in Base.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column is table.c.id:
                session.execute(update(other).where(fk.parent == old).values({fk.parent.name: new}))
    session.execute(delete(table).where(table.c.id == old))
    session.expunge(audit_round)  # and its cases and assignments: they are read again by id
    session.expire_all()
    uow.record(
        "round_renamed",
        "audit_round",
        new,
        round_id=new,
        details={
            "from": old,
            "to": new,
            "why": f"the period {old} is planned again; the events of the cancelled round "
            f"before this one name it {old}",
        },
    )
    return new
