"""The working-day calendar and a round's timeline.

A working day is a weekday that is not a bank holiday in England and Wales
(the two nations share their bank holidays). The holidays come from the
maintained ``holidays`` library, so substitute days (Boxing Day falling on a
Saturday, say) and one-off holidays (a jubilee, a state funeral) are right
without anyone editing a list.

:func:`round_timeline` turns a launch date and the board's cadence into every
date of a round. It is a pure function: the launch, chasing and planning
modules all call it and so always agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from audit_core.domain.policy import Cadence

LONDON = ZoneInfo("Europe/London")


def london_date(now: dt.datetime) -> dt.date:
    """The calendar date in London at ``now``."""
    return now.astimezone(LONDON).date()


@cache
def zone(name: str) -> ZoneInfo:
    """The time zone of this name (``board.timezone``; checked when the configuration loads)."""
    return ZoneInfo(name)


def local_date(now: dt.datetime, timezone: str) -> dt.date:
    """The calendar date at ``now`` in the board's zone (deadlines, launch days, "today")."""
    return now.astimezone(zone(timezone)).date()


@cache
def _bank_holidays() -> holidays.HolidayBase:
    # The instance fills in each year the first time a date of that year is looked up.
    return holidays.country_holidays("GB", subdiv="ENG")


def bank_holiday_name(day: dt.date) -> str | None:
    """The name of the bank holiday on ``day``, or None."""
    name = _bank_holidays().get(day)
    return str(name) if name is not None else None


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays()


def why_not_working(day: dt.date) -> str | None:
    """A few words saying why ``day`` is not a working day, or None if it is one."""
    if day.weekday() >= 5:
        return f"a {day.strftime('%A')}"
    name = bank_holiday_name(day)
    return f"a bank holiday ({name})" if name else None


def add_working_days(day: dt.date, count: int) -> dt.date:
    """The date ``count`` working days after ``day`` (before it when ``count`` is negative).

    ``count == 0`` gives ``day`` itself, whatever kind of day it is.
    """
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    current = day
    while remaining:
        current += dt.timedelta(days=step)
        if is_working_day(current):
            remaining -= 1
    return current


def next_working_day(day: dt.date) -> dt.date:
    """The first working day strictly after ``day``."""
    return add_working_days(day, 1)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """How many working days follow ``start`` up to and including ``end`` (0 if end <= start)."""
    count = 0
    current = start
    while current < end:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count


@dataclass(frozen=True)
class Reminder:
    before_due: int  # working days before the deadline; 0 = on the day
    on: dt.date


@dataclass(frozen=True)
class EscalationStep:
    level: int
    to: str  # agency_lead | business_unit_manager
    after_due: int  # working days after the deadline
    on: dt.date


@dataclass(frozen=True)
class Timeline:
    """Every date of a round, derived from its launch date and the cadence."""

    launch_on: dt.date
    due_on: dt.date
    reminders: tuple[Reminder, ...]
    escalations: tuple[EscalationStep, ...]
    audit_day_on: dt.date
    briefing_due_on: dt.date

    def events(self) -> list[tuple[dt.date, str]]:
        """The timeline as (date, what happens) pairs in date order."""
        rows: list[tuple[dt.date, str]] = [(self.launch_on, "launch: tasks sent to auditors")]
        for reminder in self.reminders:
            when = (
                "on the day"
                if reminder.before_due == 0
                else f"{reminder.before_due} working days before the deadline"
            )
            rows.append((reminder.on, f"reminder ({when})"))
        rows.append((self.due_on, "returns due"))
        for step in self.escalations:
            who = "agency lead" if step.to == "agency_lead" else "business unit manager"
            rows.append(
                (
                    step.on,
                    f"escalation {step.level} to the {who} ({step.after_due} working days late)",
                )
            )
        rows.append((self.audit_day_on, "audit day (moderation)"))
        rows.append((self.briefing_due_on, "briefing due"))
        # Stable sort: same-day entries keep the order above (reminder on the day before "due").
        return sorted(rows, key=lambda row: row[0])


def round_timeline(
    launch_on: dt.date,
    cadence: Cadence,
    *,
    due_on: dt.date | None = None,
    audit_day_on: dt.date | None = None,
    briefing_due_on: dt.date | None = None,
) -> Timeline:
    """Compute a round's dates from its launch date, counting working days only.

    1. Returns are due ``returns_due`` working days after launch.
    2. Each reminder falls ``n`` working days before the deadline (0 = the deadline itself).
    3. Each escalation falls ``after_due`` working days after the deadline.
    4. The audit day is ``audit_day_after_due`` working days after the deadline, and the
       briefing is due ``briefing_due_after_audit_day`` working days after the audit day.

    A round that is already planned keeps the dates it was given: pass them in and they
    are used as they are, with the other dates derived from them.
    """
    if due_on is None:
        due_on = add_working_days(launch_on, cadence.returns_due)
    reminders = tuple(
        Reminder(before_due=n, on=add_working_days(due_on, -n))
        for n in sorted(cadence.reminders_before_due, reverse=True)
    )
    escalations = tuple(
        EscalationStep(
            level=e.level, to=e.to, after_due=e.after_due, on=add_working_days(due_on, e.after_due)
        )
        for e in cadence.escalations
    )
    if audit_day_on is None:
        audit_day_on = add_working_days(due_on, cadence.audit_day_after_due)
    if briefing_due_on is None:
        briefing_due_on = add_working_days(audit_day_on, cadence.briefing_due_after_audit_day)
    return Timeline(
        launch_on=launch_on,
        due_on=due_on,
        reminders=reminders,
        escalations=escalations,
        audit_day_on=audit_day_on,
        briefing_due_on=briefing_due_on,
    )


def timeline_json(timeline: Timeline) -> list[dict[str, str]]:
    """The timeline as plain JSON rows: date, weekday and what happens."""
    return [
        {"date": day.isoformat(), "weekday": day.strftime("%A"), "what": what}
        for day, what in timeline.events()
    ]
