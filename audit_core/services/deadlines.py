"""Extending a deadline while a round is open: one audit's, or the whole round's.

The new date is a working day after the old one, after today and before the audit
day. Round-wide, the round's deadline and every audit not yet submitted that was
due earlier move; the chasing stage computes its reminders from each audit's date,
so the cadence follows. Each auditor with a task out is told of the new date
(``extended:<assignment>:<date>``: a second extension tells them again, a rerun
does not). The reason is kept in the audit trail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from audit_core.domain.chasing import next_chase_on
from audit_core.domain.errors import AuditRoundError, InvalidState, PlanningError
from audit_core.domain.models import AssignmentStatus as _S
from audit_core.domain.models import AuditRound
from audit_core.domain.workdays import why_not_working
from audit_core.services import emails, outbox
from audit_core.services.fieldwork import Outgoing, facts_of, find_assignment, reason_given
from audit_core.services.queries import find_round_case, get_round, round_assignments
from audit_core.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Moved:
    case_ref: str
    agency_id: str
    auditor_id: str | None
    previous_due: dt.date


@dataclass(frozen=True)
class Extension:
    """A deadline moved: the round's (``case_ref`` None) or one audit's."""

    round_id: str
    due_on: dt.date
    previous_due: dt.date  # the round's, or the audit's, deadline before
    case_ref: str | None
    agency_id: str | None
    moved: tuple[Moved, ...] = ()
    queued: tuple[str, ...] = ()
    changed: bool = True

    def to_json(self) -> dict[str, object]:
        return {
            "round": self.round_id,
            "case_ref": self.case_ref,
            "agency": self.agency_id,
            "from": self.previous_due.isoformat(),
            "to": self.due_on.isoformat(),
            "changed": self.changed,
            "moved": [
                {
                    "case_ref": m.case_ref,
                    "agency": m.agency_id,
                    "auditor": m.auditor_id,
                    "from": m.previous_due.isoformat(),
                }
                for m in self.moved
            ],
            "queued": list(self.queued),
        }


def _check_new_date(audit_round: AuditRound, to: dt.date, today: dt.date) -> None:
    not_working = why_not_working(to)
    if not_working is not None:
        raise PlanningError(
            f"The new deadline {to:%d/%m/%Y} is {not_working}: choose a working day."
        )
    if to <= today:
        raise PlanningError(f"The new deadline {to:%d/%m/%Y} must be after today.")
    if to >= audit_round.audit_day_on:
        raise PlanningError(
            f"The new deadline {to:%d/%m/%Y} must come before the round's audit day, "
            f"{audit_round.audit_day_on:%A %d/%m/%Y}, when the returns are discussed."
        )


def extend(
    uow: UnitOfWork,
    *,
    round_id: str,
    to: dt.date,
    reason: str,
    case_ref: str | None = None,
    agency_id: str | None = None,
    area_id: str | None = None,
) -> Extension:
    """Move a deadline to a later working day: one audit's, or the whole round's.

    1. The new date must be a working day after the current deadline (the same date
       again changes nothing), after today and before the audit day.
    2. Round-wide, the round's deadline and that of every audit not yet submitted
       (and due earlier) move; for one audit, only its own.
    3. Each auditor whose task is out is told the new date
       (``extended:<assignment>:<date>``: a later extension tells them again).
    """
    text = reason_given(reason)
    audit_round = get_round(uow.session, round_id)
    audit_round.require_open()
    if case_ref is not None:
        if agency_id is None:
            raise AuditRoundError(
                f"Say whose audit of case {case_ref} is extended.", missing="agency"
            )
        round_case = find_round_case(uow.session, audit_round, case_ref, area_id)
        assignment = find_assignment(round_case, agency_id)
        if assignment.status == _S.SUBMITTED:
            raise InvalidState(
                f"The {agency_id} audit of case {case_ref} is submitted: its deadline no "
                "longer matters."
            )
        targets, previous = [assignment], assignment.due_on
    else:
        targets = round_assignments(uow.session, audit_round.id)
        previous = audit_round.due_on
    moving = [a for a in targets if a.status != _S.SUBMITTED and a.due_on < to]
    if to == previous and not moving:  # run again: it is so already
        return Extension(audit_round.id, to, previous, case_ref, agency_id, changed=False)
    if to < previous:
        raise PlanningError(
            f"The new deadline {to:%d/%m/%Y} is before the current one, "
            f"{previous:%d/%m/%Y}: a deadline can only be extended."
        )
    _check_new_date(audit_round, to, uow.today)

    if case_ref is None:
        audit_round.due_on = to
        uow.record(
            "deadline_extended",
            "audit_round",
            audit_round.id,
            round_id=audit_round.id,
            details={
                "from": previous.isoformat(),
                "to": to.isoformat(),
                "reason": text,
                "assignments": len(moving),
            },
        )
    moved: list[Moved] = []
    out = Outgoing()
    events = []
    for assignment in moving:
        before = assignment.due_on
        ref = assignment.round_case.case.reference
        assignment.due_on = to
        assignment.chase_on = next_chase_on(to, uow.config.cadence, uow.today, set())  # anew
        assignment.updated_at = uow.now
        moved.append(Moved(ref, assignment.agency_id, assignment.auditor_id, before))
        events.append(
            (
                assignment.id,
                {
                    "case_ref": ref,
                    "agency": assignment.agency_id,
                    "from": before.isoformat(),
                    "to": to.isoformat(),
                    "reason": text,
                },
            )
        )
        auditor = assignment.auditor
        if assignment.status == _S.ISSUED and auditor is not None:
            letter = emails.extended(
                uow.config,
                facts_of(uow, audit_round, assignment),
                auditor_name=auditor.name,
                auditor_email=auditor.email,
                previous_due=before,
            )
            out.add(
                outbox.Draft(
                    f"extended:{assignment.id}:{to.isoformat()}",
                    "extended",
                    letter,
                    audit_round.id,
                    assignment.id,
                )
            )
    uow.record_many("due_date_extended", "assignment", events, round_id=audit_round.id)
    queued = out.send(uow)
    uow.session.flush()
    return Extension(
        audit_round.id, to, previous, case_ref, agency_id, tuple(moved), queued, changed=True
    )
