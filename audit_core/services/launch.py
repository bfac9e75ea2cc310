"""Launching a round: open it and queue every email it needs (sending is the dispatcher's job).

Running it again is harmless: a message whose dedupe key is already in the
outbox is not queued again, and an assignment whose task was queued keeps
its token, so nothing new is queued and nothing is sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from audit_core.domain import tokens
from audit_core.domain.models import Assignment, AssignmentStatus, AuditRound, RoundStatus
from audit_core.domain.workdays import london_date
from audit_core.services import emails, outbox
from audit_core.services.queries import area_names, get_round, round_assignments
from audit_core.services.unit_of_work import UnitOfWork


@dataclass
class LaunchResult:
    round_id: str
    opened: bool  # False: the round was already open; only what was missing was queued
    tasks_queued: int = 0
    nominations_queued: int = 0
    summary_queued: bool = False
    already_queued: int = 0  # messages found in the outbox from an earlier run
    message_ids: list[int] = field(default_factory=list)

    @property
    def queued(self) -> int:
        return len(self.message_ids)

    def count(self, queued: list[outbox.Queued]) -> None:
        for one in queued:
            if one.created:
                self.message_ids.append(one.id)
            else:
                self.already_queued += 1


def launch_round(uow: UnitOfWork, round_id: str) -> LaunchResult:
    """Open a planned round and queue its emails.

    1. Find the round; it must be ``planned`` (or ``open``: then only missing emails are queued).
    2. Mark it ``open`` with ``launched_at``.
    3. For each assignment with an auditor and no task yet: make a token, keep only its
       hash, mark the assignment ``issued`` and queue the task email (``task:<assignment>``).
    4. For each unfilled assignment: queue a nomination request to the agency lead
       (``nomination:<assignment>``).
    5. Queue one summary to the business unit (``launch-summary:<round>``).
    Every change is recorded in the audit trail. The caller commits, then dispatches.
    """
    uow.mailer()  # the sender and the public address are needed before anything changes
    audit_round = get_round(uow.session, round_id)
    round_id = audit_round.id
    result = LaunchResult(round_id=round_id, opened=audit_round.status == RoundStatus.PLANNED)
    if audit_round.status != RoundStatus.OPEN:
        audit_round.open(uow.now)
        uow.record("launched", "audit_round", round_id, round_id=round_id)

    assignments = round_assignments(uow.session, round_id)
    context = emails.round_facts(uow.config, audit_round)
    names = area_names(uow.session)
    tasks = _queue_tasks(uow, audit_round, assignments, context, names, result)
    nominations = _queue_nominations(uow, assignments, context, names, result)
    summary = emails.launch_summary(
        uow.config,
        context,
        launched_on=london_date(audit_round.launched_at or uow.now),
        area_names=[names.get(a, a) for a in audit_round.areas],
        due_on=audit_round.due_on,
        case_count=len(audit_round.cases),
        tasks=tasks,
        nominations=nominations,
    )
    (queued,) = outbox.queue_many(
        uow, [outbox.Draft(f"launch-summary:{round_id}", "launch_summary", summary, round_id)]
    )
    result.summary_queued = queued.created
    result.count([queued])
    uow.session.flush()
    return result


def _queue_tasks(
    uow: UnitOfWork,
    audit_round: AuditRound,
    assignments: list[Assignment],
    context: dict[str, object],
    names: dict[str, str],
    result: LaunchResult,
) -> list[dict[str, str]]:
    """Queue a task for each assignment that has an auditor and no task yet (step 3)."""
    mail = uow.mailer()
    with_auditor = [a for a in assignments if a.auditor is not None]
    known = outbox.queued_keys(uow.session, [a.task_key for a in with_auditor])
    drafts = []
    for assignment in with_auditor:
        if assignment.task_key in known:
            result.already_queued += 1
            continue
        if assignment.status != AssignmentStatus.ASSIGNED:
            continue  # declined or submitted: reassignment is not launch's business
        token = tokens.new_token()
        facts = emails.case_facts(context, assignment, names)
        letter = emails.task(
            uow.config, facts, assignment, tokens.return_link(mail.public_url, token)
        )
        drafts.append(
            outbox.Draft(assignment.task_key, "task", letter, audit_round.id, assignment.id)
        )
        assignment.task_issued(tokens.hash_token(token), uow.now)
        uow.record(
            "task_issued",
            "assignment",
            assignment.id,
            round_id=audit_round.id,
            details={"auditor": assignment.auditor_id, "agency": assignment.agency_id},
        )
    result.count(outbox.queue_many(uow, drafts))
    result.tasks_queued += len(drafts)
    return [
        {
            "case_ref": a.round_case.case.reference,
            "agency_name": a.agency.name,
            "auditor_name": a.auditor.name,
        }
        for a in with_auditor
        if a.auditor is not None
    ]


def _queue_nominations(
    uow: UnitOfWork,
    assignments: list[Assignment],
    context: dict[str, object],
    names: dict[str, str],
    result: LaunchResult,
) -> list[dict[str, str]]:
    """Ask the agency lead to nominate for each slot nobody could take (step 4)."""
    unfilled = [
        a for a in assignments if a.auditor is None and a.status == AssignmentStatus.UNFILLED
    ]
    drafts = [
        outbox.Draft(
            f"nomination:{a.id}",
            "nomination",
            emails.nomination(uow.config, emails.case_facts(context, a, names), a),
            a.round_case.round_id,
            a.id,
        )
        for a in unfilled
    ]
    queued = outbox.queue_many(uow, drafts)
    result.count(queued)
    for assignment, one in zip(unfilled, queued, strict=True):
        if one.created:
            result.nominations_queued += 1
            uow.record(
                "nomination_requested",
                "assignment",
                assignment.id,
                round_id=assignment.round_case.round_id,
                details={"agency": assignment.agency_id, "lead": assignment.agency.lead_email},
            )
    return [
        {
            "case_ref": a.round_case.case.reference,
            "agency_name": a.agency.name,
            "lead_name": a.agency.lead_name,
        }
        for a in unfilled
    ]
