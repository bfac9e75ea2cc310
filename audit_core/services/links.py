"""Sending an auditor a fresh link to their audit (lost, forwarded by mistake, or its
task email refused by the mail server and the address since corrected).

:func:`resend_link` retires the current link at once (a task still waiting in the
outbox is withdrawn) and issues the task again with a new one, as launch does
(:func:`audit_core.services.launch.issue_task`): a new token (only its hash kept), a
new task key (``task:<assignment>:<n>``) and the task email queued in the outbox. The
old link then opens nothing. The deadline is unchanged; the new task's chase goes on
from today, as for any task issued late (a step whose day has passed is not taken).
"""

from __future__ import annotations

from dataclasses import dataclass

from audit_core.domain.errors import InvalidState
from audit_core.domain.models import Assignment, AssignmentStatus, RoundStatus
from audit_core.services import outbox
from audit_core.services.fieldwork import facts_of, retire_link
from audit_core.services.launch import issue_task
from audit_core.services.return_review import find_audit, return_of
from audit_core.services.unit_of_work import UnitOfWork


def _reopened(uow: UnitOfWork, assignment: Assignment) -> bool:
    found = return_of(uow, assignment)
    return found is not None and found.reopened_at is not None


@dataclass(frozen=True)
class Resent:
    round_id: str
    assignment_id: int
    case_ref: str
    agency_id: str
    auditor_id: str
    retired: str  # the task key of the link that stopped working
    queued: tuple[str, ...]


def resend_link(uow: UnitOfWork, *, round_id: str, assignment_id: int) -> Resent:
    """Retire an audit's link and send its auditor the task again with a new one.

    1. The round must be open (or in moderation, for a reopened return: the others are
       closed) and the audit's task out (``issued``).
    2. The current link stops working; its task email is withdrawn if not yet sent.
    3. A new link is made and the task email queued under the next task key.
    """
    uow.mailer()  # the sender and the public address are needed before anything changes
    audit_round, assignment = find_audit(uow, round_id, assignment_id)
    case_ref = assignment.round_case.case.reference
    reopened = audit_round.status == RoundStatus.MODERATION and _reopened(uow, assignment)
    if audit_round.status != RoundStatus.OPEN and not reopened:
        raise InvalidState(
            f"Round {audit_round.id} is {audit_round.status}: a new link is sent only while "
            "the round is open, or for a return reopened during moderation."
        )
    if assignment.status != AssignmentStatus.ISSUED or assignment.auditor is None:
        raise InvalidState(
            f"The {assignment.agency_id} audit of case {case_ref} has no task out to send "
            f"again: it is {assignment.status}."
        )
    retired = assignment.task_key
    retire_link(uow, audit_round, assignment, why="a new link was sent in its place")
    if outbox.find(uow.session, assignment.task_key) is not None:
        raise InvalidState(
            f"A task {assignment.task_key} is in the outbox already; the audit's record does "
            "not match it, so nothing was changed."
        )
    assignment.opened_at = None  # the new link has not been opened
    draft = issue_task(uow, audit_round, assignment, facts_of(uow, audit_round, assignment))
    if audit_round.status != RoundStatus.OPEN:
        assignment.chase_on = None  # only an open round is chased
    queued = outbox.queue(uow, draft)
    uow.session.flush()
    return Resent(
        audit_round.id,
        assignment.id,
        case_ref,
        assignment.agency_id,
        assignment.auditor.id,
        retired,
        (draft.dedupe_key,) if queued.created else (),
    )
