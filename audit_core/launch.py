"""Launching a round: open it and queue every email it needs (sending is the dispatcher's job).

Running it again is harmless: a message whose dedupe key is already in the
outbox is not queued again, and an assignment whose task was queued keeps
its token, so nothing new is queued and nothing is sent twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from audit_core import audit_trail, outbox, tokens
from audit_core.clock import london_date
from audit_core.config import BoardConfig
from audit_core.errors import InvalidState, NotFound
from audit_core.ics import AllDayEvent, calendar
from audit_core.mail import Attachment
from audit_core.models import (
    Area,
    Assignment,
    AssignmentStatus,
    AuditRound,
    RoundCase,
    RoundStatus,
)
from audit_core.smtp_settings import SmtpSettings

CALENDAR_FILE = "case-audit-dates.ics"


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


def launch_round(
    session: Session,
    config: BoardConfig,
    round_id: str,
    *,
    now: dt.datetime,
    actor: str,
    public_url: str,
    mail_from: str,
) -> LaunchResult:
    """Open a planned round and queue its emails.

    1. Find the round; it must be ``planned`` (or ``open``: then only missing emails are queued).
    2. Mark it ``open`` with ``launched_at``.
    3. For each assignment with an auditor and no task yet: make a token, keep only its
       hash, mark the assignment ``sent`` and queue the task email (``task:<assignment>``).
    4. For each unfilled assignment: queue a nomination request to the agency lead
       (``nomination:<assignment>``).
    5. Queue one summary to the business unit (``launch-summary:<round>``).
    Every change is recorded in the audit trail. The caller commits, then dispatches.
    """
    SmtpSettings(mail_from=mail_from, public_url=public_url).check_composing()
    audit_round = session.get(AuditRound, round_id)
    if audit_round is None:
        raise NotFound(f"There is no round '{round_id}'.")
    if audit_round.status not in (RoundStatus.PLANNED, RoundStatus.OPEN):
        raise InvalidState(
            f"Round {round_id} is {audit_round.status}: only a planned round can be launched."
        )
    result = LaunchResult(round_id=round_id, opened=audit_round.status == RoundStatus.PLANNED)
    if result.opened:
        audit_round.status = RoundStatus.OPEN
        audit_round.launched_at = now
        audit_trail.record(
            session,
            now=now,
            actor=actor,
            action="launched",
            object_type="audit_round",
            object_id=round_id,
            round_id=round_id,
        )

    unit = config.board.business_unit
    focus = config.focus(audit_round.focus_id)
    areas = {a.id: a.name for a in session.scalars(select(Area))}
    common: dict[str, Any] = {
        "board_name": config.board.name,
        "business_unit": {"name": unit.name, "email": unit.email, "phone": unit.phone},
        "round_id": round_id,
        "focus_name": focus.name,
        "audit_day_on": audit_round.audit_day_on,
    }
    domain = SmtpSettings(mail_from=mail_from).sender_domain
    tasks: list[dict[str, str]] = []
    nominations: list[dict[str, str]] = []

    def send(draft: outbox.Draft) -> bool:
        queued = outbox.queue(session, draft, mail_from=mail_from, now=now, actor=actor)
        if queued.created:
            result.message_ids.append(queued.message.id)
        else:
            result.already_queued += 1
        return queued.created

    for assignment in _assignments(session, round_id):
        case_ref = assignment.round_case.case.reference
        facts = {
            **common,
            "case_ref": case_ref,
            "area_name": areas.get(assignment.round_case.area_id, assignment.round_case.area_id),
            "agency_name": assignment.agency.name,
            "due_on": assignment.due_on,
        }
        if assignment.auditor is not None:
            tasks.append(
                {
                    "case_ref": case_ref,
                    "agency_name": assignment.agency.name,
                    "auditor_name": assignment.auditor.name,
                }
            )
            key = f"task:{assignment.id}"
            if outbox.find(session, key) is not None:
                result.already_queued += 1
                continue
            if assignment.status != AssignmentStatus.ASSIGNED:
                continue  # declined or submitted: reassignment is not launch's business
            token = tokens.new_token()
            draft = outbox.Draft(
                dedupe_key=key,
                kind="task",
                template="task",
                context={
                    **facts,
                    "auditor_name": assignment.auditor.name,
                    "link": tokens.return_link(public_url, token),
                    "audit_tool_name": config.audit_tool.name,
                    "sections": [s.title for s in config.audit_tool.sections],
                },
                to=[(assignment.auditor.name, assignment.auditor.email)],
                reply_to=(unit.name, unit.email),
                attachments=[_task_calendar(key, facts, domain, now)],
                round_id=round_id,
                assignment_id=assignment.id,
            )
            send(draft)
            assignment.token_hash = tokens.hash_token(token)
            assignment.status = AssignmentStatus.SENT
            assignment.sent_at = now
            assignment.updated_at = now
            result.tasks_queued += 1
            audit_trail.record(
                session,
                now=now,
                actor=actor,
                action="task_sent",
                object_type="assignment",
                object_id=assignment.id,
                round_id=round_id,
                details={"auditor": assignment.auditor.id, "agency": assignment.agency_id},
            )
        elif assignment.status == AssignmentStatus.UNFILLED:
            agency = assignment.agency
            nominations.append(
                {"case_ref": case_ref, "agency_name": agency.name, "lead_name": agency.lead_name}
            )
            draft = outbox.Draft(
                dedupe_key=f"nomination:{assignment.id}",
                kind="nomination",
                template="nomination",
                context={**facts, "lead_name": agency.lead_name},
                to=[(agency.lead_name, agency.lead_email)],
                reply_to=(unit.name, unit.email),
                round_id=round_id,
                assignment_id=assignment.id,
            )
            if send(draft):
                result.nominations_queued += 1
                audit_trail.record(
                    session,
                    now=now,
                    actor=actor,
                    action="nomination_requested",
                    object_type="assignment",
                    object_id=assignment.id,
                    round_id=round_id,
                    details={"agency": agency.id, "lead": agency.lead_email},
                )

    summary = outbox.Draft(
        dedupe_key=f"launch-summary:{round_id}",
        kind="launch_summary",
        template="launch_summary",
        context={
            **common,
            "launched_on": london_date(audit_round.launched_at or now),
            "area_names": [areas.get(a, a) for a in audit_round.areas],
            "due_on": audit_round.due_on,
            "case_count": len(audit_round.cases),
            "tasks": tasks,
            "nominations": nominations,
        },
        to=[(unit.name, unit.email)],
        round_id=round_id,
    )
    result.summary_queued = send(summary)
    session.flush()
    return result


def _assignments(session: Session, round_id: str) -> list[Assignment]:
    return list(
        session.scalars(
            select(Assignment)
            .join(RoundCase, Assignment.round_case_id == RoundCase.id)
            .where(RoundCase.round_id == round_id)
            .order_by(RoundCase.id, Assignment.agency_id)
            .options(
                selectinload(Assignment.round_case).selectinload(RoundCase.case),
                selectinload(Assignment.agency),
                selectinload(Assignment.auditor),
            )
        )
    )


def _task_calendar(key: str, facts: dict[str, Any], domain: str, now: dt.datetime) -> Attachment:
    events = [
        AllDayEvent(
            key="due",
            day=facts["due_on"],
            summary=f"Case audit return due: {facts['case_ref']} ({facts['focus_name']})",
            description=(
                f"Submit your audit of case {facts['case_ref']} for {facts['agency_name']}. "
                "The link to the audit is in the task email."
            ),
        ),
        AllDayEvent(
            key="audit-day",
            day=facts["audit_day_on"],
            summary=f"Case audit day: round {facts['round_id']} ({facts['focus_name']})",
            description=f"The multi-agency audit day of round {facts['round_id']}.",
        ),
    ]
    data = calendar(events, dedupe_key=key, domain=domain, stamp=now)
    return Attachment(CALENDAR_FILE, "text/calendar", data, params=(("method", "PUBLISH"),))
