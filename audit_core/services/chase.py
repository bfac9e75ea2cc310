"""Chasing late returns: the daily sweep that sends reminders and grouped escalations.

:func:`sweep` runs on any day and is safe to run again:

1. On a weekend or a bank holiday it does nothing.
2. It reads only the tasks out (status ``issued``) of open rounds whose next chase
   day (``assignment.chase_on``) has come, so its cost follows what is due.
3. For each, the rules (:mod:`audit_core.domain.chasing`) give the one step true
   today, unless it was taken already for this task and deadline.
4. Reminders go to the auditor, one email per task. Escalations are grouped: each
   agency lead, and the business unit manager, get one email a day listing every
   late return it is about, with how late it is and who holds it. A grouped email
   already queued today for that person is not added to: a return that falls due
   for it later the same day waits for the next working day.
5. Each step taken is kept (``chase_step``) with its outbox message, in the same
   transaction as the email, and the assignment's next chase day is moved on.

A submitted or declined return has no task out, so it is never chased; a new
auditor or a new deadline starts its steps again.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import selectinload

from audit_core.domain.chasing import (
    Step,
    due_step,
    is_escalation,
    next_chase_on,
    working_days_late,
)
from audit_core.domain.models import (
    Assignment,
    AssignmentStatus,
    AuditRound,
    ChaseRecord,
    RoundCase,
    RoundStatus,
)
from audit_core.domain.workdays import local_date, why_not_working
from audit_core.services import chase_digest, emails, outbox
from audit_core.services.queries import area_names, bounced_addresses, messages_by_key
from audit_core.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Chased:
    """One return and the step taken (or, in a dry run, to take) for it today."""

    assignment_id: int
    round_id: str
    case_ref: str
    area_name: str
    agency_id: str
    agency_name: str
    auditor_name: str
    due_on: dt.date
    step: str
    to_name: str
    to_email: str
    days_late: int

    def row(self) -> dict[str, Any]:
        """Its fields as a template's row."""
        return asdict(self)

    def to_json(self) -> dict[str, Any]:
        return {**self.row(), "due_on": self.due_on.isoformat()}


@dataclass
class ChaseReport:
    today: dt.date
    not_working: str | None = None  # why nothing is chased today (a weekend, a bank holiday)
    reminders: list[Chased] = field(default_factory=list)
    escalations: list[Chased] = field(default_factory=list)
    waiting: list[Chased] = field(default_factory=list)  # grouped email sent already today
    bounced: list[Chased] = field(default_factory=list)  # not sent: the address bounced
    messages: list[int] = field(default_factory=list)  # outbox ids queued
    looked_at: int = 0
    digest_sent: bool = False  # the business unit's digest of the day was queued

    def to_json(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "not_working": self.not_working,
            "looked_at": self.looked_at,
            "reminders": [c.to_json() for c in self.reminders],
            "escalations": [c.to_json() for c in self.escalations],
            "waiting": [c.to_json() for c in self.waiting],
            "bounced": [c.to_json() for c in self.bounced],
            "messages": self.messages,
            "digest_sent": self.digest_sent,
        }


def sweep(uow: UnitOfWork, *, dry_run: bool = False) -> ChaseReport:
    """Take every chase step due today (see the module's numbered steps)."""
    report = ChaseReport(today=uow.today, not_working=why_not_working(uow.today))
    if report.not_working is not None:
        return report
    if not dry_run:
        uow.mailer()  # the sender and the public address are needed before anything changes
    candidates = _due_assignments(uow)
    report.looked_at = len(candidates)
    taken = _steps_taken(uow, candidates)
    names = area_names(uow.session)
    due = _due_steps(uow, candidates, taken, names, move_on=not dry_run)
    bounced = bounced_addresses(uow.session)
    held = [d for d in due if d[2].to_email.lower() in bounced]
    due = [d for d in due if d[2].to_email.lower() not in bounced]
    report.bounced = [c for _, _, c in held]
    if dry_run:
        _sort_into(report, [c for _, _, c in due])
        return report
    _hold_for_bounces(uow, held, bounced, report, taken)
    _send_reminders(uow, [d for d in due if not d[1].is_escalation], report, taken, names)
    _send_escalations(uow, [d for d in due if d[1].is_escalation], report, taken)
    sent = {"reminders": len(report.reminders), "escalations": len(report.escalations)}
    not_sent = [c.row() for c in report.bounced]
    digest = chase_digest.send_digest(uow, chase_digest.gather(uow, **sent, bounced=not_sent))
    if digest is not None and digest.created:
        report.messages.append(digest.id)
        report.digest_sent = True
    return report


def _due_steps(
    uow: UnitOfWork,
    candidates: list[Assignment],
    taken: dict[int, set[str]],
    names: dict[str, str],
    *,
    move_on: bool,
) -> list[tuple[Assignment, Step, Chased]]:
    """The step due today for each candidate; one with none has its next chase day moved
    on (``move_on``: not in a dry run) to the day something falls due."""
    due, cadence = [], uow.config.cadence
    for assignment in candidates:
        done, issued_on = taken.get(assignment.id, set()), _issued_on(uow, assignment)
        step = due_step(assignment.due_on, cadence, uow.today, done, issued_on)
        if step is not None:
            due.append((assignment, step, _chased(uow, assignment, step, names)))
        elif move_on:
            assignment.chase_on = next_chase_on(
                assignment.due_on, cadence, uow.today, done, issued_on
            )
    return due


def _due_assignments(uow: UnitOfWork) -> list[Assignment]:
    query = (
        select(Assignment)
        .join(RoundCase, Assignment.round_case_id == RoundCase.id)
        .join(AuditRound, AuditRound.id == RoundCase.round_id)
        .where(
            Assignment.chase_on <= uow.today,
            Assignment.status == AssignmentStatus.ISSUED,
            AuditRound.status == RoundStatus.OPEN,
        )
        .order_by(RoundCase.round_id, RoundCase.id, Assignment.agency_id)
        .options(
            selectinload(Assignment.round_case).selectinload(RoundCase.case),
            selectinload(Assignment.round_case).selectinload(RoundCase.round),
            selectinload(Assignment.agency),
            selectinload(Assignment.auditor),
        )
    )
    return list(uow.session.scalars(query))


def _steps_taken(uow: UnitOfWork, assignments: list[Assignment]) -> dict[int, set[str]]:
    """The steps taken so far for each assignment's current task and deadline."""
    taken: dict[int, set[str]] = defaultdict(set)
    keys = [(a.id, a.task_number, a.due_on) for a in assignments]
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        rows = uow.session.execute(
            select(ChaseRecord.assignment_id, ChaseRecord.step).where(
                tuple_(ChaseRecord.assignment_id, ChaseRecord.task_number, ChaseRecord.due_on).in_(
                    chunk
                )
            )
        )
        for assignment_id, step in rows:
            taken[assignment_id].add(step)
    return taken


def _issued_on(uow: UnitOfWork, assignment: Assignment) -> dt.date | None:
    """The board's date on which the current task was issued."""
    issued = assignment.issued_at
    return local_date(issued, uow.timezone) if issued is not None else None


def _recipient(uow: UnitOfWork, assignment: Assignment, step: Step) -> tuple[str, str]:
    if step.to == "auditor":
        auditor = assignment.auditor
        assert auditor is not None  # a task out has an auditor
        return auditor.name, auditor.email
    if step.to == "agency_lead":
        return assignment.agency.lead_name, assignment.agency.lead_email
    manager = uow.config.board.business_unit.manager
    return manager.name, manager.email


def _chased(uow: UnitOfWork, assignment: Assignment, step: Step, names: dict[str, str]) -> Chased:
    round_case = assignment.round_case
    to_name, to_email = _recipient(uow, assignment, step)
    return Chased(
        assignment_id=assignment.id,
        round_id=round_case.round_id,
        case_ref=round_case.case.reference,
        area_name=names.get(round_case.area_id, round_case.area_id),
        agency_id=assignment.agency_id,
        agency_name=assignment.agency.name,
        auditor_name=assignment.auditor.name if assignment.auditor else "",
        due_on=assignment.due_on,
        step=step.name,
        to_name=to_name,
        to_email=to_email,
        days_late=working_days_late(assignment.due_on, uow.today),
    )


def _sort_into(report: ChaseReport, chased: list[Chased]) -> None:
    for one in chased:
        target = report.escalations if is_escalation(one.step) else report.reminders
        target.append(one)


def _send_reminders(
    uow: UnitOfWork,
    due: list[tuple[Assignment, Step, Chased]],
    report: ChaseReport,
    taken: dict[int, set[str]],
    names: dict[str, str],
) -> None:
    drafts = []
    rounds: dict[str, dict[str, Any]] = {}
    for assignment, step, chased in due:
        audit_round = assignment.round_case.round
        if audit_round.id not in rounds:
            rounds[audit_round.id] = emails.round_facts(uow.config, audit_round)
        facts = emails.case_facts(rounds[audit_round.id], assignment, names)
        letter = emails.reminder(uow.config, facts, assignment, step, chased.days_late)
        key = f"chase:{assignment.id}:{assignment.task_number}:{assignment.due_on}:{step.name}"
        drafts.append(outbox.Draft(key, "reminder", letter, chased.round_id, assignment.id))
    queued = outbox.queue_many(uow, drafts)
    for (assignment, step, chased), message in zip(due, queued, strict=True):
        _taken(uow, assignment, step, chased, message.id, taken)
        report.reminders.append(chased)
        if message.created:
            report.messages.append(message.id)


def _send_escalations(
    uow: UnitOfWork,
    due: list[tuple[Assignment, Step, Chased]],
    report: ChaseReport,
    taken: dict[int, set[str]],
) -> None:
    groups: dict[str, list[tuple[Assignment, Step, Chased]]] = defaultdict(list)
    for item in due:
        groups[item[2].to_email.lower()].append(item)
    keys = {email: f"escalation:{uow.today}:{email}" for email in groups}
    sent_already = messages_by_key(uow.session, list(keys.values()))
    for email, items in groups.items():
        if keys[email] in sent_already:  # one grouped email a day: the rest waits a day
            for assignment, _, chased in items:
                assignment.chase_on = uow.today + dt.timedelta(days=1)
                report.waiting.append(chased)
            continue
        chased_all = [c for _, _, c in items]
        level = max(step.level for _, step, _ in items)
        rows = [c.row() for c in chased_all]
        letter = emails.escalation(uow.config, rows, today=uow.today, level=level)
        round_ids = {c.round_id for c in chased_all}
        round_id = round_ids.pop() if len(round_ids) == 1 else None
        message = outbox.queue(uow, outbox.Draft(keys[email], "escalation", letter, round_id))
        report.messages.append(message.id)
        for assignment, step, chased in items:
            _taken(uow, assignment, step, chased, message.id, taken)
            report.escalations.append(chased)


def _hold_for_bounces(
    uow: UnitOfWork,
    held: list[tuple[Assignment, Step, Chased]],
    bounced: dict[str, tuple[int, str]],
    report: ChaseReport,
    taken: dict[int, set[str]],
) -> None:
    """Send nothing to an address the mail server refused for good: the step counts as
    taken, and the business unit is told once about the address, the first time the chase
    meets it after the refusal (``bounced:<address>:<refused message>``)."""
    by_address: dict[str, list[Chased]] = defaultdict(list)
    for assignment, step, chased in held:
        by_address[chased.to_email.lower()].append(chased)
        _taken(uow, assignment, step, chased, None, taken)
    for address, rows in by_address.items():
        refused_in, answer = bounced[address]
        letter = emails.bounced(uow.config, [r.row() for r in rows], answer)
        key = f"bounced:{address}:{refused_in}"  # once for each time the address bounced
        message = outbox.queue(uow, outbox.Draft(key, "bounced", letter))
        if message.created:
            report.messages.append(message.id)


def _taken(
    uow: UnitOfWork,
    assignment: Assignment,
    step: Step,
    chased: Chased,
    message_id: int | None,
    taken: dict[int, set[str]],
) -> None:
    """Keep the step taken, with its audit event, and move the next chase day on."""
    uow.session.add(
        ChaseRecord(
            assignment_id=assignment.id,
            task_number=assignment.task_number,
            due_on=assignment.due_on,
            step=step.name,
            recipient=chased.to_email,
            taken_on=uow.today,
            taken_at=uow.now,
            outbox_message_id=message_id,
        )
    )
    done = taken.setdefault(assignment.id, set())
    done.add(step.name)
    assignment.chase_on = next_chase_on(
        assignment.due_on, uow.config.cadence, uow.today, done, _issued_on(uow, assignment)
    )
    uow.record(
        "chased",
        "assignment",
        assignment.id,
        round_id=chased.round_id,
        details={"step": step.name, "to": step.to, "message": message_id, "sent": bool(message_id)},
    )
