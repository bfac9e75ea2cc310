"""Launching a round: open it and queue every email it needs (sending is the dispatcher's job).

Running it again is harmless: a message whose dedupe key is already in the
outbox is not queued again, and an assignment whose task was queued keeps
its token, so nothing new is queued and nothing is sent twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select

from audit_core.domain import tokens
from audit_core.domain.chasing import next_chase_on
from audit_core.domain.errors import InvalidState
from audit_core.domain.launch_day import check_launch_day, launch_is_due
from audit_core.domain.models import (
    Assignment,
    AssignmentStatus,
    AuditRound,
    OutboxMessage,
    OutboxStatus,
    RoundStatus,
)
from audit_core.domain.periods import period_bounds, period_of
from audit_core.domain.workdays import local_date
from audit_core.services import emails, outbox
from audit_core.services.queries import (
    area_names,
    get_round,
    messages_by_key,
    round_assignments,
    shown_states,
)
from audit_core.services.round_ids import mail_scope
from audit_core.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Outcome:
    """What became of a launch's emails of one kind: accepted by the mail server, refused for
    good, or still waiting in the outbox for a (next) attempt."""

    delivered: int = 0
    failed: int = 0
    waiting: int = 0


@dataclass(frozen=True)
class LaunchSummary:
    round_id: str
    queued: bool  # False: an earlier launch queued the summary; nothing was added
    message: outbox.Queued
    tasks: Outcome
    nominations: Outcome


@dataclass
class LaunchResult:
    round_id: str
    opened: bool  # False: the round was already open; only what was missing was queued
    tasks_queued: int = 0
    nominations_queued: int = 0
    summary_queued: bool = False
    already_queued: int = 0  # messages found in the outbox from an earlier run
    message_ids: list[int] = field(default_factory=list)
    summary: LaunchSummary | None = None  # what the business unit was told (after dispatch)
    summary_deferred: str | None = None  # why the summary waits for a later launch

    @property
    def queued(self) -> int:
        return len(self.message_ids)

    def add_summary(self, summary: LaunchSummary) -> None:
        """Count the summary queued after the first dispatch (:func:`send_launch_summary`)."""
        self.summary = summary
        self.summary_queued = summary.queued
        self.count([summary.message])

    def count(self, queued: list[outbox.Queued]) -> None:
        for one in queued:
            if one.created:
                self.message_ids.append(one.id)
            else:
                self.already_queued += 1


def launch_round(uow: UnitOfWork, round_id: str, *, early: bool = False) -> LaunchResult:
    """Open a planned round and queue its emails.

    1. Find the round; it must be ``planned`` (or ``open``: then only missing emails are queued).
       A planned round launches within its period, on or after its planned day in the
       board's zone; before that day only with ``early`` (kept in the audit trail).
    2. Mark it ``open`` with ``launched_at``.
    3. For each assignment with an auditor and no task yet: make a token, keep only its
       hash, mark the assignment ``issued`` and queue the task email (``task:<assignment>``).
    4. For each unfilled assignment: queue a nomination request to the agency lead
       (``nomination:<assignment>``).
    Every change is recorded in the audit trail. The caller commits, then dispatches, then
    queues the summary of what was delivered (:func:`send_launch_summary`).
    """
    uow.mailer()  # the sender and the public address are needed before anything changes
    audit_round = get_round(uow.session, round_id)
    round_id = audit_round.id
    result = LaunchResult(round_id=round_id, opened=audit_round.status == RoundStatus.PLANNED)
    launched_early = False
    if audit_round.status == RoundStatus.PLANNED:  # its day and its period (domain.launch_day)
        launched_early = check_launch_day(round_id, audit_round.launch_on, uow.today, early=early)
    if audit_round.status != RoundStatus.OPEN:
        was = audit_round.status
        audit_round.open(uow.now)
        uow.flush_round(audit_round, was)  # of two launches at once, only one opens it
        planned_on = audit_round.launch_on.isoformat()
        details = {"early": launched_early, "planned_launch_on": planned_on}
        uow.record("launched", "audit_round", round_id, round_id=round_id, details=details)

    assignments = round_assignments(uow.session, round_id)
    context = emails.round_facts(uow.config, audit_round)
    names = area_names(uow.session)
    _queue_tasks(uow, audit_round, assignments, context, names, result)
    _queue_nominations(uow, assignments, context, names, result)
    uow.session.flush()
    return result


def _queue_tasks(
    uow: UnitOfWork,
    audit_round: AuditRound,
    assignments: list[Assignment],
    context: dict[str, object],
    names: dict[str, str],
    result: LaunchResult,
) -> None:
    """Queue a task for each assignment that has an auditor and no task yet (step 3)."""
    with_auditor = [a for a in assignments if a.auditor is not None]
    known = messages_by_key(uow.session, [a.task_key for a in with_auditor])
    drafts = []
    for assignment in with_auditor:
        if assignment.task_key in known:
            result.already_queued += 1
            continue
        if assignment.status != AssignmentStatus.ASSIGNED:
            continue  # declined or submitted: reassignment is not launch's business
        facts = emails.case_facts(context, assignment, names)
        drafts.append(issue_task(uow, audit_round, assignment, facts))
    result.count(outbox.queue_many(uow, drafts))
    result.tasks_queued += len(drafts)


def issue_task(
    uow: UnitOfWork, audit_round: AuditRound, assignment: Assignment, facts: dict[str, object]
) -> outbox.Draft:
    """Issue the assignment's task: a fresh secure link (only its hash kept), the status
    ``issued``, its audit event, and the task email to queue under the current task key."""
    token = tokens.new_token()
    link = tokens.return_link(uow.mailer().public_url, token)
    letter = emails.task(uow.config, facts, assignment, link)
    draft = outbox.Draft(assignment.task_key, "task", letter, audit_round.id, assignment.id)
    assignment.task_issued(tokens.hash_token(token), uow.now)
    # its chase starts after today: the task email itself gives the deadline
    assignment.chase_on = next_chase_on(assignment.due_on, uow.config.cadence, uow.today, set())
    uow.record(
        "task_issued",
        "assignment",
        assignment.id,
        round_id=audit_round.id,
        details={
            "auditor": assignment.auditor_id,
            "agency": assignment.agency_id,
            "dedupe_key": assignment.task_key,
        },
    )
    return draft


def _queue_nominations(
    uow: UnitOfWork,
    assignments: list[Assignment],
    context: dict[str, object],
    names: dict[str, str],
    result: LaunchResult,
) -> None:
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


# --- the summary to the business unit, once the emails have been tried ----------------

# An email's fate, as the summary tells it, from its outbox status.
_FATE = {OutboxStatus.SENT: "delivered", OutboxStatus.FAILED: "failed"}
# An assignment's shown state (``queries.shown_states``), the same way.
_TASK_FATE = {"sent": "delivered", "failed": "failed", "queued": "waiting"}


def send_launch_summary(uow: UnitOfWork, round_id: str) -> LaunchSummary:
    """Queue the business unit's summary of a launch: what was delivered, what failed.

    Run it after the launch's emails have been dispatched, so that it tells what really
    happened to each (``launch-summary:<round>``; a second run queues nothing):

    1. Find the round; it must have been launched.
    2. For each task that was issued: delivered (the mail server accepted it), failed
       (refused for good: the business unit has its own alert), or waiting for a retry.
    3. The same for each nomination request to an agency lead.
    4. Queue the summary. The caller commits, then dispatches.
    """
    audit_round = get_round(uow.session, round_id)
    round_id = audit_round.id
    if audit_round.launched_at is None:
        raise InvalidState(f"Round {round_id} has not been launched: there is nothing to report.")
    assignments = round_assignments(uow.session, round_id)
    names = area_names(uow.session)
    states = shown_states(uow.session, assignments)
    tasks = [
        {
            "case_ref": a.round_case.case.reference,
            "agency_name": a.agency.name,
            "auditor_name": a.auditor.name,
            "state": _TASK_FATE[states[a.id]],
        }
        for a in assignments
        if a.auditor is not None and states[a.id] in _TASK_FATE
    ]
    requests = _nomination_states(uow, assignments)
    nominations = [
        {
            "case_ref": a.round_case.case.reference,
            "agency_name": a.agency.name,
            "lead_name": a.agency.lead_name,
            "state": requests[a.id],
        }
        for a in assignments
        if a.id in requests
    ]
    letter = emails.launch_summary(
        uow.config,
        emails.round_facts(uow.config, audit_round),
        launched_on=local_date(audit_round.launched_at, uow.timezone),
        area_names=[names.get(a, a) for a in audit_round.areas],
        due_on=audit_round.due_on,
        case_count=len(audit_round.cases),
        tasks=tasks,
        nominations=nominations,
    )
    key = f"launch-summary:{mail_scope(uow, audit_round)}"  # a period planned again: its own
    (queued,) = outbox.queue_many(uow, [outbox.Draft(key, "launch_summary", letter, round_id)])
    uow.session.flush()
    return LaunchSummary(round_id, queued.created, queued, _outcome(tasks), _outcome(nominations))


def _nomination_states(uow: UnitOfWork, assignments: list[Assignment]) -> dict[int, str]:
    """The fate of each nomination request in the outbox: assignment id -> fate."""
    by_key = {f"nomination:{a.id}": a.id for a in assignments if a.auditor is None}
    found: dict[int, str] = {}
    keys = list(by_key)
    for start in range(0, len(keys), 500):
        rows = uow.session.execute(
            select(OutboxMessage.dedupe_key, OutboxMessage.status).where(
                OutboxMessage.dedupe_key.in_(keys[start : start + 500])
            )
        )
        found.update({by_key[key]: _FATE.get(state, "waiting") for key, state in rows})
    return found


def _outcome(rows: list[dict[str, str]]) -> Outcome:
    counts = Counter(row["state"] for row in rows)
    return Outcome(counts["delivered"], counts["failed"], counts["waiting"])


def rounds_to_launch(uow: UnitOfWork) -> list[str]:
    """The rounds the scheduler launches now: each planned round whose launch moment (its
    day at the cadence's ``launch_time``, in the board's zone) has come, within its period;
    and each open round whose launch summary was never queued (the mail server could not
    be reached at launch: launching again sends what waits, then the summary)."""
    cadence, zone_name = uow.config.cadence, uow.timezone
    rounds = uow.session.scalars(
        select(AuditRound)
        .where(AuditRound.status.in_((RoundStatus.PLANNED, RoundStatus.OPEN)))
        .order_by(AuditRound.id)
    )
    due, opened = [], {}
    for audit_round in rounds:
        if audit_round.status == RoundStatus.OPEN:
            opened[f"launch-summary:{mail_scope(uow, audit_round)}"] = audit_round.id
            continue
        first, last = period_bounds(period_of(audit_round.id))
        on_time = launch_is_due(audit_round.launch_on, cadence.launch_time, zone_name, uow.now)
        if on_time and first <= uow.today <= last:
            due.append(audit_round.id)
    summaries = messages_by_key(uow.session, list(opened))
    return due + [round_id for key, round_id in opened.items() if key not in summaries]
