"""Cancelling a round, planned or open, for a reason the audit trail keeps.

A planned round has told nobody anything, so cancelling it changes its status
and nothing else. Cancelling an open round also:

* tells every auditor who had a task (issued or returned, unless the task email
  could not be delivered) and every agency lead asked to nominate, one email
  each (``round-cancelled:<assignment>:<task number>``,
  ``round-cancelled:<assignment>:nomination``);
* retires every secure link at once (:meth:`Assignment.retire_link`);
* sends the business unit a record of who was told
  (``round-cancelled:<round>``, see :func:`.round_ids.mail_scope`).

Running it again changes and queues nothing. The period can then be planned
again (:func:`.planning.plan_round` moves the cancelled round aside).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from audit_core.domain.errors import PlanningError
from audit_core.domain.models import (
    Assignment,
    AssignmentStatus,
    AuditRound,
    OutboxStatus,
    RoundStatus,
)
from audit_core.services import emails, outbox
from audit_core.services.queries import (
    area_names,
    get_round,
    message_statuses,
    round_assignments,
    shown_states,
)
from audit_core.services.round_ids import mail_scope
from audit_core.services.unit_of_work import UnitOfWork


@dataclass
class CancelResult:
    round_id: str
    cancelled: bool  # False: it was already cancelled; nothing was changed or queued
    was: str  # the status it had
    reason: str
    auditors_told: int = 0
    leads_told: int = 0
    links_retired: int = 0
    unit_told: bool = False
    message_ids: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round_id,
            "cancelled": self.cancelled,
            "was": self.was,
            "reason": self.reason,
            "auditors_told": self.auditors_told,
            "leads_told": self.leads_told,
            "links_retired": self.links_retired,
            "business_unit_told": self.unit_told,
            "queued": len(self.message_ids),
        }


def tells_people(uow: UnitOfWork, round_id: str) -> bool:
    """Whether cancelling this round now would send email (it is open)."""
    return get_round(uow.session, round_id).status == RoundStatus.OPEN


def cancel_round(uow: UnitOfWork, round_id: str, reason: str) -> CancelResult:
    """Cancel a planned or open round.

    1. A reason is needed; find the round. Already cancelled: nothing to do.
    2. Mark it ``cancelled`` with the time and reason (``round_cancelled`` event).
    3. If it was open: one email to each auditor who had a task and each lead asked to
       nominate; every secure link retired (``link_retired`` events); the business unit
       gets the list of who was told. The caller commits, then dispatches.
    """
    reason = " ".join(reason.split())
    if not reason:
        raise PlanningError(
            "Say why the round is cancelled: the reason is kept in the audit trail and told "
            "to the auditors.",
            missing="reason",
        )
    audit_round = get_round(uow.session, round_id)
    was = audit_round.status
    if was == RoundStatus.CANCELLED:
        return CancelResult(audit_round.id, False, was, audit_round.cancel_reason or "")
    if was == RoundStatus.OPEN:
        uow.mailer()  # the sender is needed before anything changes
    audit_round.cancel(reason, uow.now)
    uow.flush_round(audit_round, was)
    uow.record(
        "round_cancelled",
        "audit_round",
        audit_round.id,
        round_id=audit_round.id,
        details={"reason": reason, "was": was},
    )
    result = CancelResult(audit_round.id, True, was, reason)
    if was == RoundStatus.OPEN:
        _tell_everyone(uow, audit_round, reason, result)
    uow.session.flush()
    return result


def _tell_everyone(
    uow: UnitOfWork, audit_round: AuditRound, reason: str, result: CancelResult
) -> None:
    assignments = round_assignments(uow.session, audit_round.id)
    # what has not gone out yet never will (its link is retired below): nobody is told of it
    waiting = [a.task_key for a in assignments if a.token_hash is not None]
    waiting += [f"nomination:{a.id}" for a in assignments]
    outbox.withdraw(uow, waiting, why="the round was cancelled")
    states = shown_states(uow.session, assignments)
    nominations = [f"nomination:{a.id}" for a in assignments if a.auditor is None]
    asked = {
        key
        for key, status in message_statuses(uow.session, nominations).items()
        if status != OutboxStatus.WITHDRAWN
    }
    context = emails.round_facts(uow.config, audit_round)
    names = area_names(uow.session)
    drafts: list[outbox.Draft] = []
    told: list[dict[str, str]] = []

    def tell(assignment: Assignment, key: str, name: str, email: str, role: str) -> None:
        facts = emails.case_facts(context, assignment, names)
        letter = emails.round_cancelled(
            uow.config, facts, name=name, email=email, reason=reason, role=role
        )
        drafts.append(outbox.Draft(key, "round_cancelled", letter, audit_round.id, assignment.id))
        told.append(
            {
                "case_ref": facts["case_ref"],
                "agency_name": facts["agency_name"],
                "name": name,
                "role": {"lead": "agency lead", "submitted": "return in"}.get(role, "auditor"),
            }
        )

    for a in assignments:
        auditor = a.auditor
        had_task = a.status in (AssignmentStatus.ISSUED, AssignmentStatus.SUBMITTED)
        if auditor is not None and had_task and states[a.id] not in ("failed", "withdrawn"):
            role = "submitted" if a.status == AssignmentStatus.SUBMITTED else "auditor"
            tell(a, f"round-cancelled:{a.id}:{a.task_number}", auditor.name, auditor.email, role)
            result.auditors_told += 1
        elif auditor is None and f"nomination:{a.id}" in asked:
            key = f"round-cancelled:{a.id}:nomination"
            tell(a, key, a.agency.lead_name, a.agency.lead_email, "lead")
            result.leads_told += 1
    retired = [a for a in assignments if a.token_hash is not None]
    for a in retired:
        a.retire_link(uow.now)
    uow.record_many(
        "link_retired",
        "assignment",
        [(a.id, {"auditor": a.auditor_id, "why": "the round was cancelled"}) for a in retired],
        round_id=audit_round.id,
    )
    result.links_retired = len(retired)
    notice = emails.round_cancelled_notice(
        uow.config,
        context,
        reason=reason,
        told=told,
        links_retired=len(retired),
        returns_in=sum(a.status == AssignmentStatus.SUBMITTED for a in assignments),
    )
    key = f"round-cancelled:{mail_scope(uow, audit_round)}"
    drafts.append(outbox.Draft(key, "round_cancelled_notice", notice, audit_round.id))
    queued = outbox.queue_many(uow, drafts)
    result.message_ids = [q.id for q in queued if q.created]
    result.unit_told = queued[-1].created
