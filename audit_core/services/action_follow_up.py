"""Following up the action plan: the working day's reminders, escalations and weekly digest.

:func:`follow_up` runs on any day and is safe to run again:

1. Every open action is rated for today (:func:`audit_core.services.actions.refresh_rag`).
2. On a weekend or a bank holiday nothing else is done.
3. It reads the actions still open (or in progress) whose next follow-up day
   (``action.chase_on``) has come or is still to be planned (none yet: a new action, or
   one whose due date moved), and the steps already taken for their due dates.
4. For each, the rules (:mod:`audit_core.domain.action_follow_up`) give the one step true
   today, unless it was taken already; an action with none has its next follow-up day
   moved on to the day something falls due.
5. Reminders go to owners, escalations to the leads of the owners' agencies, one email a
   person a day listing every action it is about. An owner's email carries a fresh link
   to each of their actions (only a link's hash is kept, so a reminder cannot repeat the
   one sent before; the earlier link stops working). A lead's email lists the actions
   with their owners, due dates and status, and never an owner's link. A person who had
   today's email already is not written to again: what falls due for them later the same
   day waits for the next working day.
6. Each step taken is kept (``action_chase_step``, unique per action, step and due date)
   with its outbox message, in the same transaction as the email.
7. On the digest's day the business unit and the QA subgroup get the week's digest of the
   action plan (:mod:`audit_core.services.action_digest`).

``dry_run`` works out the same and changes nothing (the RAG is not written either).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import selectinload

from audit_core.domain.action_follow_up import Step, due_step, next_follow_up_on
from audit_core.domain.actions import last_update_on, status_label
from audit_core.domain.models import Action, ActionChaseStep, ActionStatus, Agency
from audit_core.domain.workdays import local_date, why_not_working, working_days_between
from audit_core.services import action_digest, actions, emails, outbox
from audit_core.services.action_links import fresh_link
from audit_core.services.ports import Letter
from audit_core.services.queries import messages_by_key
from audit_core.services.unit_of_work import UnitOfWork

REMINDER_KIND = "action_reminder"
ESCALATION_KIND = "action_escalation"
_OPEN = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)


@dataclass(frozen=True)
class FollowedUp:
    """One action and the step taken (or, in a dry run, to take) for it today."""

    action_id: int
    round_id: str
    theme_name: str
    text: str
    owner_name: str
    agency_name: str
    due_on: dt.date
    status: str
    rag: str
    step: str
    to_name: str
    to_email: str
    days_late: int
    last_update_on: dt.date

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "due_on": self.due_on.isoformat(),
            "last_update_on": self.last_update_on.isoformat(),
        }


@dataclass
class FollowUpReport:
    today: dt.date
    not_working: str | None = None  # why no step is taken today (a weekend, a bank holiday)
    rag_changed: int = 0
    looked_at: int = 0
    reminders: list[FollowedUp] = field(default_factory=list)
    escalations: list[FollowedUp] = field(default_factory=list)
    waiting: list[FollowedUp] = field(default_factory=list)  # their person had today's email
    messages: list[int] = field(default_factory=list)  # outbox ids queued
    digest: action_digest.PlanDigest | None = None  # this week's, on the day it is owed
    digest_sent: bool = False

    @property
    def taken(self) -> list[FollowedUp]:
        return [*self.reminders, *self.escalations]

    def to_json(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "not_working": self.not_working,
            "rag_changed": self.rag_changed,
            "looked_at": self.looked_at,
            "reminders": [f.to_json() for f in self.reminders],
            "escalations": [f.to_json() for f in self.escalations],
            "waiting": [f.to_json() for f in self.waiting],
            "messages": self.messages,
            "digest": self.digest.to_json() if self.digest else None,
            "digest_sent": self.digest_sent,
        }


Due = tuple[Action, Step, FollowedUp]


def follow_up(uow: UnitOfWork, *, dry_run: bool = False) -> FollowUpReport:
    """Take the follow-up steps due today and send the week's digest on its day (see the
    module's numbered steps)."""
    report = FollowUpReport(today=uow.today, not_working=why_not_working(uow.today))
    if not dry_run:
        uow.mailer()  # the sender and the public address are needed before anything changes
        report.rag_changed = actions.refresh_rag(uow)
    if report.not_working is not None:
        return report
    candidates = _due_actions(uow)
    report.looked_at = len(candidates)
    taken = _steps_taken(uow, candidates)
    due = _due_steps(uow, candidates, taken, move_on=not dry_run)
    if dry_run:
        for _, step, row in due:
            (report.escalations if step.is_escalation else report.reminders).append(row)
        report.digest = action_digest.owed(uow)
        return report
    _send_grouped(uow, [d for d in due if not d[1].is_escalation], report, taken, owner=True)
    _send_grouped(uow, [d for d in due if d[1].is_escalation], report, taken, owner=False)
    report.digest, queued = action_digest.send_owed(uow)
    if queued is not None and queued.created:
        report.messages.append(queued.id)
        report.digest_sent = True
    return report


def _due_actions(uow: UnitOfWork) -> list[Action]:
    """The actions still open whose next follow-up day has come or is still to be planned."""
    query = (
        select(Action)
        .where(
            Action.status.in_(_OPEN),
            or_(Action.chase_on.is_(None), Action.chase_on <= uow.today),
        )
        .order_by(Action.due_on, Action.id)
        .options(selectinload(Action.updates))  # each one's last update, in one query
    )
    return list(uow.session.scalars(query))


def _steps_taken(uow: UnitOfWork, candidates: list[Action]) -> dict[int, set[str]]:
    """The steps taken so far for each action's current due date."""
    taken: dict[int, set[str]] = defaultdict(set)
    keys = [(a.id, a.due_on) for a in candidates]
    for start in range(0, len(keys), 500):
        rows = uow.session.execute(
            select(ActionChaseStep.action_id, ActionChaseStep.step).where(
                tuple_(ActionChaseStep.action_id, ActionChaseStep.due_on).in_(
                    keys[start : start + 500]
                )
            )
        )
        for action_id, step in rows:
            taken[action_id].add(step)
    return taken


def _set_on(uow: UnitOfWork, action: Action) -> dt.date:
    """The board's date the action was set: its owner's first email gave the due date."""
    return local_date(action.created_at, uow.timezone)


def _due_steps(
    uow: UnitOfWork, candidates: list[Action], taken: dict[int, set[str]], *, move_on: bool
) -> list[Due]:
    """The step due today for each action; one with none has its next follow-up day moved
    on (``move_on``: not in a dry run)."""
    policy, today, due = uow.config.cadence.action_follow_up, uow.today, []
    agencies = {a.id: a for a in uow.session.scalars(select(Agency))}
    for action in candidates:
        done, set_on = taken.get(action.id, set()), _set_on(uow, action)
        step = due_step(action.due_on, policy, today, done, status=action.status, set_on=set_on)
        if step is not None:
            due.append((action, step, _followed_up(uow, action, step, agencies)))
        elif move_on:
            action.chase_on = next_follow_up_on(
                action.due_on, policy, today, done, status=action.status, set_on=set_on
            )
    return due


def _recipient(
    uow: UnitOfWork, action: Action, step: Step, agencies: dict[str, Agency]
) -> tuple[str, str]:
    """The owner; for an escalation, the lead of the owner's agency (the business unit's
    manager for an owner outside the partner agencies)."""
    if not step.is_escalation:
        return action.owner_name, action.owner_email
    agency = agencies.get(action.agency_id or "")
    if agency is not None:
        return agency.lead_name, agency.lead_email
    manager = uow.config.board.business_unit.manager
    return manager.name, manager.email


def _followed_up(
    uow: UnitOfWork, action: Action, step: Step, agencies: dict[str, Agency]
) -> FollowedUp:
    themes = {t.id: t.name for t in uow.config.themes}
    agency = agencies.get(action.agency_id or "")
    to_name, to_email = _recipient(uow, action, step, agencies)
    return FollowedUp(
        action_id=action.id,
        round_id=action.round_id,
        theme_name=themes.get(action.theme_id, action.theme_id),
        text=action.text,
        owner_name=action.owner_name,
        agency_name=agency.name if agency else "",
        due_on=action.due_on,
        status=action.status,
        rag=action.rag,
        step=step.name,
        to_name=to_name,
        to_email=to_email,
        days_late=working_days_between(action.due_on, uow.today),
        last_update_on=last_update_on(action, uow.timezone),
    )


def _send_grouped(
    uow: UnitOfWork,
    due: list[Due],
    report: FollowUpReport,
    taken: dict[int, set[str]],
    *,
    owner: bool,
) -> None:
    """One email a person today, listing every action it is about (owners: with a fresh
    link to each); a person who had today's email already waits for the next working day."""
    kind = REMINDER_KIND if owner else ESCALATION_KIND
    groups: dict[str, list[Due]] = defaultdict(list)
    for item in due:
        groups[item[2].to_email.lower()].append(item)
    keys = {email: f"{kind.replace('_', '-')}:{uow.today}:{email}" for email in groups}
    sent_already = messages_by_key(uow.session, list(keys.values()))
    for email, items in groups.items():
        if keys[email] in sent_already:
            for action, _, row in items:
                action.chase_on = uow.today + dt.timedelta(days=1)
                report.waiting.append(row)
            continue
        rows = [_letter_row(uow, action, step, row, owner=owner) for action, step, row in items]
        letter = _letter(uow, kind, rows, items[0][2])
        round_ids = {row.round_id for _, _, row in items}
        round_id = round_ids.pop() if len(round_ids) == 1 else None
        message = outbox.queue(uow, outbox.Draft(keys[email], kind, letter, round_id))
        report.messages.append(message.id)
        for action, step, row in items:
            _taken(uow, action, step, row, message.id, taken)
            (report.reminders if owner else report.escalations).append(row)


def _letter_row(
    uow: UnitOfWork, action: Action, step: Step, row: FollowedUp, *, owner: bool
) -> dict[str, Any]:
    """An action as its email lists it; an owner's row carries a fresh link, a lead's none."""
    listed = {
        "action_id": row.action_id,
        "round_id": row.round_id,
        "theme_name": row.theme_name,
        "text": row.text,
        "owner_name": row.owner_name,
        "due_on": row.due_on,
        "status": status_label(row.status),
        "days_late": row.days_late,
        "before_due": step.before_due,
        "overdue": step.before_due is None,
        "last_update_on": row.last_update_on,
    }
    if owner:
        listed["link"] = fresh_link(uow, action)
    return listed


def _letter(uow: UnitOfWork, kind: str, rows: list[dict[str, Any]], first: FollowedUp) -> Letter:
    config, unit = uow.config, uow.config.board.business_unit
    return Letter(
        template=kind,
        context={
            "board_name": config.board.name,
            "business_unit": emails.business_unit(config),
            "to_name": first.to_name,
            "agency_name": first.agency_name,
            "today": uow.today,
            "rows": rows,
        },
        to=[(first.to_name, first.to_email)],
        reply_to=(unit.name, unit.email),
    )


def _taken(
    uow: UnitOfWork,
    action: Action,
    step: Step,
    row: FollowedUp,
    message_id: int,
    taken: dict[int, set[str]],
) -> None:
    """Keep the step taken, with its audit event, and move the next follow-up day on."""
    uow.session.add(
        ActionChaseStep(
            action_id=action.id,
            step=step.name,
            due_on=action.due_on,
            taken_on=uow.today,
            to=row.to_email,
            outbox_message_id=message_id,
        )
    )
    done = taken.setdefault(action.id, set())
    done.add(step.name)
    action.chase_on = next_follow_up_on(
        action.due_on,
        uow.config.cadence.action_follow_up,
        uow.today,
        done,
        status=action.status,
        set_on=_set_on(uow, action),
    )
    uow.record(
        "action_chased",
        "action",
        action.id,
        round_id=action.round_id,
        details={"step": step.name, "to": step.to, "message": message_id},
    )
