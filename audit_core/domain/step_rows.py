"""A row of follow-up steps on working days, the mechanism the chase of a return and the
follow-up of an action share.

A row is a tuple of steps, each with a ``name`` (unique within the row) and the working
day ``on`` it falls, in the order they fall. Each step is true from its day until the day
before the next step's, so a step missed while the system was down is taken once, on the
next working day it is still true, and only the newest true step is ever taken: never a
burst of old ones. The last step stays true. Each is taken at most once (the caller keeps
what was taken), and a step whose day had come by the day the row was set (the first
email gave the date) is not taken. Nothing is due on a weekend or a bank holiday.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Protocol, TypeVar

from audit_core.domain.workdays import add_working_days, is_working_day


class Dated(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def on(self) -> dt.date: ...


S = TypeVar("S", bound=Dated)


def one_a_day(steps: Iterable[S]) -> tuple[S, ...]:
    """The steps in day order; of two on one day, the later one in the row (it is the
    one that is true)."""
    by_day: dict[dt.date, S] = {}
    for step in steps:
        by_day[step.on] = step
    return tuple(sorted(by_day.values(), key=lambda s: s.on))


def true_step(steps: tuple[S, ...], today: dt.date) -> S | None:
    """The newest step whose day has come (the next one's has not); None on days off."""
    if not is_working_day(today):
        return None
    current = None
    for step in steps:
        if step.on > today:
            break
        current = step
    return current


def done(steps: tuple[S, ...], taken: Iterable[str], set_on: dt.date | None) -> set[str]:
    """The steps taken, and those whose day had come when the row was set."""
    covered = {s.name for s in steps if set_on is not None and s.on <= set_on}
    return covered | set(taken)


def due_step(
    steps: tuple[S, ...], today: dt.date, taken: Iterable[str], set_on: dt.date | None
) -> S | None:
    """The step to take today: the true step, unless it is done."""
    step = true_step(steps, today)
    if step is None or step.name in done(steps, taken, set_on):
        return None
    return step


def next_due_on(
    steps: tuple[S, ...], after: dt.date, taken: Iterable[str], set_on: dt.date | None
) -> dt.date | None:
    """The first working day after ``after`` on which a step not yet done becomes due;
    None when every step has been done or has lapsed."""
    finished = done(steps, taken, set_on)
    earliest = add_working_days(after, 1)
    for index, step in enumerate(steps):
        if step.name in finished:
            continue
        ends = steps[index + 1].on if index + 1 < len(steps) else None
        start = max(step.on, earliest)
        if not is_working_day(start):
            start = add_working_days(start, 1)
        if ends is None or start < ends:
            return start
    return None
