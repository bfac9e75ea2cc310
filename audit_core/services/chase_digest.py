"""The business unit's daily digest of the open rounds: only what needs doing.

It lists the late returns (by agency, with who holds each and how late it is, and
the auditors holding more than one), the declined audits waiting to be reassigned,
the slots nobody has been found for, the chase steps held because their address
refuses mail, and what today's sweep sent. It is sent only
on a day with news (a step sent, a return late since today, a decline since the
last digest), so the same open items are not listed every day; and at most once a
day (``digest:<date>``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from audit_core.domain.chasing import working_days_late
from audit_core.domain.models import (
    Assignment,
    AssignmentStatus,
    AuditRound,
    OutboxMessage,
    RoundCase,
    RoundStatus,
)
from audit_core.services import emails, outbox
from audit_core.services.queries import area_names
from audit_core.services.unit_of_work import UnitOfWork

DIGEST_KIND = "digest"


@dataclass(frozen=True)
class Digest:
    late: list[dict[str, Any]]
    declined: list[dict[str, Any]]
    unfilled: list[dict[str, Any]]
    bounced: list[dict[str, Any]]  # chase steps not sent today: their address bounced
    sent_today: dict[str, int]  # reminders, escalations
    changed: bool  # something new since the last digest: a step sent, a return late, a decline

    @property
    def worth_sending(self) -> bool:
        """Only a day with news: the same open items are not listed again every day."""
        return self.changed and bool(self.late or self.declined or self.unfilled or self.bounced)


def _open_assignments(uow: UnitOfWork, statuses: tuple[str, ...]) -> list[Assignment]:
    query = (
        select(Assignment)
        .join(RoundCase, Assignment.round_case_id == RoundCase.id)
        .join(AuditRound, AuditRound.id == RoundCase.round_id)
        .where(AuditRound.status == RoundStatus.OPEN, Assignment.status.in_(statuses))
        .order_by(RoundCase.round_id, Assignment.agency_id, RoundCase.id)
        .options(
            selectinload(Assignment.round_case).selectinload(RoundCase.case),
            selectinload(Assignment.agency),
            selectinload(Assignment.auditor),
        )
    )
    return list(uow.session.scalars(query))


def _row(assignment: Assignment, names: dict[str, str]) -> dict[str, Any]:
    round_case = assignment.round_case
    return {
        "round_id": round_case.round_id,
        "case_ref": round_case.case.reference,
        "area_name": names.get(round_case.area_id, round_case.area_id),
        "agency_id": assignment.agency_id,
        "agency_name": assignment.agency.name,
        "auditor_name": assignment.auditor.name if assignment.auditor else "",
        "due_on": assignment.due_on,
    }


def gather(
    uow: UnitOfWork, *, reminders: int, escalations: int, bounced: list[dict[str, Any]]
) -> Digest:
    """What the digest of today would say."""
    names = area_names(uow.session)
    late = []
    out = _open_assignments(uow, (AssignmentStatus.ISSUED,))
    for assignment in out:
        if assignment.due_on < uow.today:
            days = working_days_late(assignment.due_on, uow.today)
            late.append({**_row(assignment, names), "days_late": days})
    declined = [
        {**_row(a, names), "reason": a.declined_reason or "", "declined_at": a.declined_at}
        for a in _open_assignments(uow, (AssignmentStatus.DECLINED,))
    ]
    unfilled = [_row(a, names) for a in _open_assignments(uow, (AssignmentStatus.UNFILLED,))]
    late.sort(key=lambda r: (r["agency_name"], -r["days_late"], r["case_ref"]))
    since = _last_digest_at(uow)
    changed = (
        reminders + escalations + len(bounced) > 0
        or any(r["days_late"] == 1 for r in late)  # late since today
        or any(since is None or (r["declined_at"] or since) > since for r in declined)
    )
    sent = {"reminders": reminders, "escalations": escalations}
    return Digest(late, declined, unfilled, bounced, sent, changed)


def _last_digest_at(uow: UnitOfWork) -> dt.datetime | None:
    return uow.session.scalar(
        select(func.max(OutboxMessage.queued_at)).where(OutboxMessage.kind == DIGEST_KIND)
    )


def send_digest(uow: UnitOfWork, digest: Digest) -> outbox.Queued | None:
    """Queue today's digest if there is something to act on (once a day)."""
    if not digest.worth_sending:
        return None
    holders = Counter(r["auditor_name"] for r in digest.late)
    letter = emails.digest(
        uow.config,
        today=uow.today,
        late=digest.late,
        several_late=sorted((n, c) for n, c in holders.items() if c > 1),
        declined=digest.declined,
        unfilled=digest.unfilled,
        bounced=digest.bounced,
        sent_today=digest.sent_today,
    )
    return outbox.queue(uow, outbox.Draft(f"digest:{uow.today}", DIGEST_KIND, letter))
