"""The follow-up rules of an action: which step is due today, and when the weekly digest is.

An action's follow-up is a row of steps, each on a working day counted from its due
date (``cadence.action_follow_up``):

- a reminder to its owner ``n`` working days before the due date, for each ``n`` in
  ``reminders_before_due`` (0 = on the day; a due date that is not a working day has
  its reminder on the working day before it);
- the overdue reminder to its owner ``overdue_after`` working days after the due date;
- the escalation to the lead of the owner's agency ``escalate_after`` working days
  after it.

Each step is true from its day until the day before the next step's, so a step missed
while the system was down is taken once, on the next working day it is still true, and
only the newest true step is ever taken: never a burst of old ones. The escalation
stays true for as long as the action is not done. Each step is taken at most once per
action and due date (the caller keeps what was taken); a new due date starts the row
again.

A step whose day had come by the day the action was set (its owner's first email gave
the due date) is not taken. Nothing is due on a weekend or a bank holiday, and nothing
for an action that is done or dropped.

The digest of the action plan goes once a week, on ``digest_weekday``; when that day is a
bank holiday, on the next working day of the same week, and a digest missed on its day
is sent on a later working day of that week (:func:`digest_day`).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Literal

from audit_core.domain import step_rows as rows
from audit_core.domain.models import ActionStatus
from audit_core.domain.policy import ActionFollowUp
from audit_core.domain.workdays import add_working_days, is_working_day

Recipient = Literal["owner", "agency_lead"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
_CLOSED = (ActionStatus.DONE, ActionStatus.DROPPED)


@dataclass(frozen=True)
class Step:
    """One step of the follow-up of an action with a given due date."""

    name: str  # reminder-10, reminder-0, overdue, escalation: unique within a follow-up
    on: dt.date  # the working day it falls on
    to: Recipient
    before_due: int | None = None  # for the reminders before the due date

    @property
    def is_escalation(self) -> bool:
        return self.to == "agency_lead"


def _reminder_day(due_on: dt.date, before: int) -> dt.date:
    day = add_working_days(due_on, -before)
    while not is_working_day(day):  # "on the day" of a due date that is a day off
        day -= dt.timedelta(days=1)
    return day


@functools.lru_cache(maxsize=512)  # an action plan shares a few due dates
def follow_up_steps(due_on: dt.date, policy: ActionFollowUp) -> tuple[Step, ...]:
    """Every step of the follow-up of an action due on ``due_on``, in the order they fall."""
    steps = [
        Step(f"reminder-{n}", _reminder_day(due_on, n), "owner", before_due=n)
        for n in policy.reminders_before_due  # sorted, furthest first
    ]
    steps.append(Step("overdue", add_working_days(due_on, policy.overdue_after), "owner"))
    steps.append(Step("escalation", add_working_days(due_on, policy.escalate_after), "agency_lead"))
    return rows.one_a_day(steps)  # of two steps on one day, the later one is true


def true_step(due_on: dt.date, policy: ActionFollowUp, today: dt.date) -> Step | None:
    """The step that is true today for an action not yet done: the newest one whose day has
    come (the next one's has not, or it would be the true one). None on days off."""
    return rows.true_step(follow_up_steps(due_on, policy), today)


def due_step(
    due_on: dt.date,
    policy: ActionFollowUp,
    today: dt.date,
    taken: frozenset[str] | set[str],
    *,
    status: str,
    set_on: dt.date | None = None,
) -> Step | None:
    """The step to take today, or None: the true step, unless the action is done or
    dropped, the step was taken already, or its day had come by the day it was set."""
    if status in _CLOSED:
        return None
    return rows.due_step(follow_up_steps(due_on, policy), today, taken, set_on)


def next_follow_up_on(
    due_on: dt.date,
    policy: ActionFollowUp,
    after: dt.date,
    taken: frozenset[str] | set[str],
    *,
    status: str,
    set_on: dt.date | None = None,
) -> dt.date | None:
    """The first working day after ``after`` on which a step not yet done becomes due;
    None when the action is closed or every step has been done or has lapsed (the
    action's ``chase_on``)."""
    if status in _CLOSED:
        return None
    return rows.next_due_on(follow_up_steps(due_on, policy), after, taken, set_on)


def digest_day(today: dt.date, weekday: str) -> dt.date | None:
    """The day of this week's digest of the action plan, if it is owed on ``today``: the
    digest weekday of today's week (the next working day of the week when that is a bank
    holiday), once it has come. None on days off and before the digest's day."""
    if not is_working_day(today):
        return None
    day = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=WEEKDAYS.index(weekday))
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    if day.isocalendar()[:2] != today.isocalendar()[:2] or day > today:
        return None  # no working day left in the week, or not yet
    return day


def describe(step: Step) -> str:
    """A follow-up step in words, for the command line and the dashboard."""
    if step.before_due == 0:
        return "Reminder on the due date"
    if step.before_due is not None:
        return f"Reminder, {step.before_due} working days before the due date"
    if step.is_escalation:
        return "Escalation to the agency lead"
    return "Overdue reminder"
