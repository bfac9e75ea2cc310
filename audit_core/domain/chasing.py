"""The chasing rules: which step of the cadence an outstanding return is due today.

A return's chase is a row of steps, each on a working day counted from its
deadline (``cadence.yaml``):

- a reminder to the auditor ``n`` working days before the deadline, for each ``n``
  in ``reminders_before_due`` (0 = on the day);
- an overdue reminder to the auditor on the working day after the deadline;
- each escalation level, ``after_due`` working days after the deadline, to the
  agency lead or the business unit manager (the auditor is not written to again).

Each step is true from its day until the day before the next step's: a reminder
that says "due in 5 working days" is not sent on the deadline, and a first
escalation is not sent once the second one is due. So a step missed while the
system was down is taken once, on the next working day it is still true, and
only the newest true step is ever taken: never a burst of old ones. The last
escalation stays true for as long as the return is outstanding; like every step
it is taken at most once per deadline (the caller keeps what was taken).

A step whose day had come by the day the task was issued (an audit given to a new
auditor late in the fieldwork) is not taken: the task email gave the deadline.

Nothing is due on a weekend or a bank holiday. The rules know nothing of who has
submitted or declined: the caller asks only for outstanding returns.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Literal

from audit_core.domain import step_rows as rows
from audit_core.domain.policy import Cadence
from audit_core.domain.workdays import add_working_days, is_working_day, working_days_between

Recipient = Literal["auditor", "agency_lead", "business_unit_manager"]


@dataclass(frozen=True)
class Step:
    """One step of the chase of a return with a given deadline."""

    name: str  # reminder-5, reminder-0, overdue, escalation-1, ...: unique within a chase
    on: dt.date  # the working day it falls on
    to: Recipient
    level: int = 0  # the escalation level; 0 for the auditor's reminders
    before_due: int | None = None  # for reminders before the deadline

    @property
    def is_escalation(self) -> bool:
        return self.level > 0


@functools.lru_cache(maxsize=512)  # a round's returns share a few deadlines
def chase_steps(due_on: dt.date, cadence: Cadence) -> tuple[Step, ...]:
    """Every step of the chase of a return due on ``due_on``, in the order they fall."""
    steps = [
        Step(f"reminder-{n}", add_working_days(due_on, -n), "auditor", before_due=n)
        for n in cadence.reminders_before_due  # sorted, furthest first
    ]
    steps.append(Step("overdue", add_working_days(due_on, 1), "auditor"))
    steps += [
        Step(f"escalation-{e.level}", add_working_days(due_on, e.after_due), e.to, level=e.level)
        for e in sorted(cadence.escalations, key=lambda e: (e.after_due, e.level))
    ]
    # Two steps on one day (an escalation one working day late): the later one is true.
    return rows.one_a_day(steps)


def true_step(due_on: dt.date, cadence: Cadence, today: dt.date) -> Step | None:
    """The step that is true today for a return still outstanding, if any: the newest one
    whose day has come, unless the next one's day has come too. None on days off."""
    return rows.true_step(chase_steps(due_on, cadence), today)


def due_step(
    due_on: dt.date,
    cadence: Cadence,
    today: dt.date,
    taken: frozenset[str] | set[str],
    issued_on: dt.date | None = None,
) -> Step | None:
    """The step to take today, or None: the true step, unless it was taken already or its
    day had come by the day the task was issued (the task email gave the deadline)."""
    return rows.due_step(chase_steps(due_on, cadence), today, taken, issued_on)


def next_chase_on(
    due_on: dt.date,
    cadence: Cadence,
    after: dt.date,
    taken: frozenset[str] | set[str],
    issued_on: dt.date | None = None,
) -> dt.date | None:
    """The first working day after ``after`` on which a step not yet done becomes due;
    None when every step has been done or has lapsed. Lets a sweep look only at the
    returns with something to do (an index on this date)."""
    return rows.next_due_on(chase_steps(due_on, cadence), after, taken, issued_on)


def working_days_late(due_on: dt.date, today: dt.date) -> int:
    """How many working days after the deadline ``today`` is (0 on or before it)."""
    return working_days_between(due_on, today)


# --- what the dashboard shows of a chase --------------------------------------------------


def is_escalation(step_name: str) -> bool:
    """Whether a chase step taken (``escalation-1``, ...) went beyond the auditor."""
    return step_name.startswith("escalation")


@dataclass(frozen=True)
class NextStep:
    name: str  # reminder-5, overdue, escalation-1, ...
    on: dt.date  # the working day the chase takes it, if the return is still outstanding
    label: str  # in words, for the page


def next_step(
    due_on: dt.date,
    cadence: Cadence,
    *,
    chase_on: dt.date | None,
    today: dt.date,
    taken: frozenset[str] | set[str],
    issued_on: dt.date | None,
) -> NextStep | None:
    """The chase's next step for an outstanding return and the day it is taken; None when
    nothing is left to chase. ``chase_on`` is the assignment's next chase day."""
    if chase_on is None:
        return None
    day = max(chase_on, today)
    if not is_working_day(day):
        day = add_working_days(day, 1)
    for _ in range(16):  # a chase has a handful of steps; each turn moves past one
        step = due_step(due_on, cadence, day, taken, issued_on)
        if step is not None:
            return NextStep(step.name, day, describe(step))
        following = next_chase_on(due_on, cadence, day, taken, issued_on)
        if following is None:
            return None
        day = following
    return None


def describe(step: Step) -> str:
    """A chase step in words: "Reminder, 5 working days before", "Escalation to ..."."""
    if step.before_due == 0:
        return "Reminder on the day"
    if step.before_due is not None:
        return f"Reminder, {step.before_due} working days before"
    if step.to == "agency_lead":
        return "Escalation to the agency lead"
    if step.to == "business_unit_manager":
        return "Escalation to the business unit manager"
    return "Overdue reminder"
