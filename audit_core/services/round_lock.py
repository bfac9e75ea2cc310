"""Closing a round's returns: the round moves from open to moderation.

From then on the auditors' forms are read-only (the deadline lock, see
:mod:`audit_core.services.returns`) unless the business unit reopens one return;
the chase stops, since it sweeps open rounds only. Returns not in by then are
listed as not received when the round is collated.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit_core.domain.models import AssignmentStatus, RoundStatus
from audit_core.services.queries import get_round, round_assignments
from audit_core.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class LockResult:
    round_id: str
    moved: bool  # False: it was in moderation already; nothing changed
    submitted: int
    not_received: int


def start_moderation(uow: UnitOfWork, round_id: str) -> LockResult:
    """Close the round's returns; run again, it finds the round in moderation and does nothing."""
    audit_round = get_round(uow.session, round_id)
    assignments = round_assignments(uow.session, round_id)
    submitted = sum(1 for a in assignments if a.status == AssignmentStatus.SUBMITTED)
    counts = (submitted, len(assignments) - submitted)
    if audit_round.status == RoundStatus.MODERATION:
        return LockResult(round_id, False, *counts)
    was = audit_round.status
    audit_round.start_moderation()
    uow.flush_round(audit_round, was)
    uow.record(
        "moderation_started",
        "audit_round",
        round_id,
        round_id=round_id,
        details={"submitted": counts[0], "not_received": counts[1]},
    )
    return LockResult(round_id, True, *counts)
