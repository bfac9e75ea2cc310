"""Fixing a round while it is open: hand an audit to another auditor, record a decline,
fill a slot with a nominated auditor, extend a deadline.

Every change needs an open round (:meth:`AuditRound.require_open`), writes its audit
events in the unit of work's transaction and queues its emails in the outbox with a
dedupe key of their own, so that running the same command again changes nothing and
sends nothing:

* **hand over** (:func:`hand_over`, reached through
  :func:`audit_core.services.round_changes.reassign` and :func:`fill`): the same rules as
  planning (:func:`audit_core.domain.assignment.why_not_eligible`, capacity counting what
  the auditor holds). The old secure link stops working at once
  (:meth:`Assignment.retire_link`); the new auditor's task has its own key
  (:attr:`Assignment.task_key`, ``task:<assignment>:<n>``); the released auditor gets a
  short note (``released:<assignment>:<n>``, n = the number of the task they held).
* **decline** (:func:`decline`): the link is retired, the business unit is told
  (``declined:<assignment>:<n>``); the audit waits for a reassignment.
* **fill** (:func:`fill`): an unfilled slot is given to the auditor the agency lead
  nominated; the task goes out and the nomination is closed.
* **extend** (:func:`extend`): one audit's deadline, or the round's and that of every
  audit not yet submitted, moves to a later working day; each auditor holding a task is
  told (``extended:<assignment>:<new date>``). Reminders and escalations are worked out
  from ``assignment.due_on``, so they follow the new date.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from audit_core.domain.assignment import Slot, why_not_eligible
from audit_core.domain.errors import AuditRoundError, InvalidState, NotFound, PlanningError
from audit_core.domain.models import (
    Assignment,
    AssignmentStatus,
    AuditRound,
    Person,
    RoundCase,
    RoundStatus,
)
from audit_core.services import emails, outbox
from audit_core.services.launch import issue_task
from audit_core.services.queries import (
    area_names,
    find_round_case,
    get_round,
    practitioners_on,
    round_auditors,
)
from audit_core.services.reference import sync_reference_data
from audit_core.services.unit_of_work import UnitOfWork

_S = AssignmentStatus


@dataclass(frozen=True)
class Change:
    """What one fieldwork command did to one agency's audit of one case."""

    round_id: str
    case_ref: str
    agency_id: str
    previous: str | None  # the auditor before (the one who declined, for a decline)
    auditor_id: str | None  # the auditor after
    status: str  # the assignment's status after
    changed: bool  # False: it was already so; nothing was changed or queued
    queued: tuple[str, ...] = ()  # the dedupe keys of the emails queued

    def to_json(self) -> dict[str, object]:
        return {
            "round": self.round_id,
            "case_ref": self.case_ref,
            "agency": self.agency_id,
            "from": self.previous,
            "to": self.auditor_id,
            "status": self.status,
            "changed": self.changed,
            "queued": list(self.queued),
        }


@dataclass
class Outgoing:
    """The emails one change queues, and their keys."""

    drafts: list[outbox.Draft] = field(default_factory=list)

    def add(self, draft: outbox.Draft) -> None:
        self.drafts.append(draft)

    def send(self, uow: UnitOfWork) -> tuple[str, ...]:
        queued = outbox.queue_many(uow, self.drafts)
        return tuple(q.dedupe_key for q in queued if q.created)


# --- shared steps ----------------------------------------------------------------------------


def find_assignment(round_case: RoundCase, agency_id: str) -> Assignment:
    """The agency's audit of this case; the refusal lists the agencies involved."""
    found = next((a for a in round_case.assignments if a.agency_id == agency_id), None)
    if found is None:
        involved = ", ".join(a.agency_id for a in round_case.assignments) or "none"
        raise NotFound(
            f"Agency {agency_id} is not involved in case {round_case.case.reference} in round "
            f"{round_case.round_id} (involved: {involved})."
        )
    return found


def check_eligible(
    uow: UnitOfWork, audit_round: AuditRound, assignment: Assignment, auditor_id: str
) -> Person:
    """The auditor, if they pass every assignment rule (as planning applies them):
    active, the agency, the area, no conflict of interest, capacity left."""
    session = uow.session
    person = session.get(Person, auditor_id)
    case_ref = assignment.round_case.case.reference
    if person is None:
        raise NotFound(f"There is no auditor '{auditor_id}' in the configuration.")
    auditor = next(
        a
        for a in round_auditors(session, audit_round.id, except_assignment=assignment.id)
        if a.id == auditor_id
    )
    round_case = assignment.round_case
    slot = Slot(
        key=str(assignment.id),
        area_id=round_case.area_id,
        agency_id=assignment.agency_id,
        practitioner_ids=practitioners_on(session, round_case.case_id, assignment.agency_id),
    )
    reason = why_not_eligible(slot, auditor)
    if reason is not None:
        raise PlanningError(
            f"{auditor_id} cannot audit case {case_ref} for {assignment.agency_id}: "
            f"the auditor {reason}."
        )
    return person


def _who_could_take(
    uow: UnitOfWork, audit_round: AuditRound, assignment: Assignment, *, besides: str
) -> list[str]:
    """The ids of the auditors who could take this audit now (``besides`` left out)."""
    sync_reference_data(uow)
    round_case = assignment.round_case
    slot = Slot(
        key=str(assignment.id),
        area_id=round_case.area_id,
        agency_id=assignment.agency_id,
        practitioner_ids=practitioners_on(uow.session, round_case.case_id, assignment.agency_id),
    )
    return [
        a.id
        for a in round_auditors(uow.session, audit_round.id, except_assignment=assignment.id)
        if a.id != besides and why_not_eligible(slot, a) is None
    ]


def facts_of(uow: UnitOfWork, audit_round: AuditRound, assignment: Assignment) -> dict[str, object]:
    context = emails.round_facts(uow.config, audit_round)
    return emails.case_facts(context, assignment, area_names(uow.session))


def _issue_task(uow: UnitOfWork, audit_round: AuditRound, assignment: Assignment) -> outbox.Draft:
    """The task, issued afresh under the current key (which must not be in the outbox yet)."""
    if outbox.find(uow.session, assignment.task_key) is not None:
        raise InvalidState(
            f"A task {assignment.task_key} is in the outbox already; the audit's record does "
            "not match it, so nothing was changed."
        )
    return issue_task(uow, audit_round, assignment, facts_of(uow, audit_round, assignment))


def retire_link(
    uow: UnitOfWork,
    audit_round: AuditRound,
    assignment: Assignment,
    *,
    why: str = "the audit changed hands before its task was sent",
) -> bool:
    """Retire the link at once, and withdraw its task if it has not gone out yet (``why``
    goes with the withdrawal).

    True if the task had gone out (or is going out): its auditor then holds a link.
    """
    held = assignment.task_key
    withdrawn = outbox.withdraw(uow, [held], why=why)
    assignment.retire_link(uow.now)
    uow.record(
        "link_retired",
        "assignment",
        assignment.id,
        round_id=audit_round.id,
        details={"auditor": assignment.auditor_id, "agency": assignment.agency_id, "task": held},
    )
    return not withdrawn


def _unchanged(assignment: Assignment, case_ref: str) -> Change:
    return Change(
        assignment.round_case.round_id,
        case_ref,
        assignment.agency_id,
        assignment.auditor_id,
        assignment.auditor_id,
        assignment.status,
        changed=False,
    )


# --- hand over, fill ---------------------------------------------------------------------------


def hand_over(
    uow: UnitOfWork, audit_round: AuditRound, assignment: Assignment, auditor_id: str | None
) -> Change:
    """Give an audit of an open round to another eligible auditor, and tell both.

    1. Already theirs, with its task out: nothing to do.
    2. The auditor must pass every assignment rule.
    3. A task that is out: its link stops working now, and the next task gets a key of
       its own.
    4. The audit passes to the auditor; a fresh link is made (only its hash kept) and
       the task queued (``task:<assignment>:<n>``).
    5. The auditor released from a task that was out gets a short note (a task still
       waiting in the outbox is withdrawn instead, and its auditor told nothing)
       (``released:<assignment>:<n>``); an unfilled slot's nomination is closed.
    """
    audit_round.require_open()
    case_ref = assignment.round_case.case.reference
    agency_id = assignment.agency_id
    before, previous = assignment.status, assignment.auditor_id
    if auditor_id is None:
        raise InvalidState(
            f"The {agency_id} audit of case {case_ref} cannot be left without an auditor "
            "while the round is open: record a decline (round decline) or name the new "
            "auditor."
        )
    if previous == auditor_id and before in (_S.ISSUED, _S.SUBMITTED):
        return _unchanged(assignment, case_ref)
    if before == _S.SUBMITTED:
        raise InvalidState(
            f"The {agency_id} audit of case {case_ref} is submitted: it cannot change hands."
        )
    sync_reference_data(uow)
    person = check_eligible(uow, audit_round, assignment, auditor_id)
    released = assignment.auditor if before == _S.ISSUED else None
    released_task = assignment.task_number
    if before == _S.ISSUED and not retire_link(uow, audit_round, assignment):
        released = None  # the task never reached them: there is nothing to release them from
    assignment.give_to(auditor_id, uow.now)
    assignment.auditor = person
    uow.record(
        "auditor_reassigned",
        "assignment",
        assignment.id,
        round_id=audit_round.id,
        details={
            "case_ref": case_ref,
            "agency": agency_id,
            "from": previous,
            "to": auditor_id,
            "was": before,
        },
    )
    if before == _S.UNFILLED:
        nominated = outbox.find(uow.session, f"nomination:{assignment.id}") is not None
        uow.record(
            "nomination_closed",
            "assignment",
            assignment.id,
            round_id=audit_round.id,
            details={
                "case_ref": case_ref,
                "agency": agency_id,
                "lead": assignment.agency.lead_email,
                "auditor": auditor_id,
                "nomination_requested": nominated,
            },
        )
    out = Outgoing()
    out.add(_issue_task(uow, audit_round, assignment))
    if released is not None and released.id != auditor_id:
        facts = facts_of(uow, audit_round, assignment)
        letter = emails.released(
            uow.config, facts, auditor_name=released.name, auditor_email=released.email
        )
        out.add(
            outbox.Draft(
                f"released:{assignment.id}:{released_task}",
                "released",
                letter,
                audit_round.id,
                assignment.id,
            )
        )
    queued = out.send(uow)
    uow.session.flush()
    return Change(
        audit_round.id, case_ref, agency_id, previous, auditor_id, assignment.status, True, queued
    )


def round_is_open(uow: UnitOfWork, round_id: str) -> bool:
    """Whether the round is open (its fixes write email) rather than planned."""
    return get_round(uow.session, round_id).status == RoundStatus.OPEN


def _open_assignment(
    uow: UnitOfWork, round_id: str, case_ref: str, agency_id: str, area_id: str | None
) -> tuple[AuditRound, Assignment]:
    audit_round = get_round(uow.session, round_id)
    audit_round.require_open()
    round_case = find_round_case(uow.session, audit_round, case_ref, area_id)
    return audit_round, find_assignment(round_case, agency_id)


def fill(
    uow: UnitOfWork,
    *,
    round_id: str,
    case_ref: str,
    agency_id: str,
    auditor_id: str,
    area_id: str | None = None,
) -> Change:
    """Give an unfilled slot to the auditor the agency lead nominated; close the nomination.

    The nominee must be in the configuration (people.yaml) and pass every assignment
    rule. Their task goes out at once. Run again, it finds the slot theirs and does
    nothing.
    """
    audit_round, assignment = _open_assignment(uow, round_id, case_ref, agency_id, area_id)
    if assignment.auditor_id == auditor_id and assignment.status == _S.ISSUED:
        return _unchanged(assignment, case_ref)
    if assignment.status != _S.UNFILLED:
        holder = f" ({assignment.auditor_id})" if assignment.auditor_id else ""
        raise InvalidState(
            f"The {agency_id} audit of case {case_ref} is not waiting for a nomination: it "
            f"is {assignment.status}{holder}. To change its auditor use 'round reassign'."
        )
    return hand_over(uow, audit_round, assignment, auditor_id)


# --- decline -------------------------------------------------------------------------------------


def reason_given(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise AuditRoundError("Say why, for the audit trail.", missing="reason")
    return text


def decline(
    uow: UnitOfWork,
    *,
    round_id: str,
    case_ref: str,
    agency_id: str,
    reason: str,
    area_id: str | None = None,
) -> Change:
    """Record that the auditor declined their task, and why; tell the business unit.

    1. The audit must have its task out (``issued``); already declined: nothing to do.
    2. The link stops working at once; the audit is ``declined`` and waits for
       :func:`~audit_core.services.round_changes.reassign`.
    3. The business unit's mailbox gets the reason and the auditors who could take it
       (``declined:<assignment>:<n>``).
    """
    text = reason_given(reason)
    audit_round, assignment = _open_assignment(uow, round_id, case_ref, agency_id, area_id)
    if assignment.status == _S.DECLINED:
        return _unchanged(assignment, case_ref)
    if assignment.status != _S.ISSUED:
        raise InvalidState(
            f"The {agency_id} audit of case {case_ref} has no task out to decline: it is "
            f"{assignment.status}."
        )
    auditor = assignment.auditor
    assert auditor is not None
    task = assignment.task_number
    held = assignment.task_key
    outbox.withdraw(uow, [held], why="the auditor declined before the task was sent")
    assignment.decline(text, uow.now)
    uow.record(
        "task_declined",
        "assignment",
        assignment.id,
        round_id=audit_round.id,
        details={
            "case_ref": case_ref,
            "agency": agency_id,
            "auditor": auditor.id,
            "task": held,  # the auditor's reason is kept with the audit, for the purge
        },
    )
    candidates = _who_could_take(uow, audit_round, assignment, besides=auditor.id)
    letter = emails.declined(
        uow.config,
        facts_of(uow, audit_round, assignment),
        auditor_name=auditor.name,
        reason=text,
        candidates=candidates,
        agency_id=agency_id,
    )
    out = Outgoing()
    out.add(
        outbox.Draft(
            f"declined:{assignment.id}:{task}", "declined", letter, audit_round.id, assignment.id
        )
    )
    queued = out.send(uow)
    uow.session.flush()
    return Change(
        audit_round.id, case_ref, agency_id, auditor.id, auditor.id, assignment.status, True, queued
    )
