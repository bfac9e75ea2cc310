"""The follow-up rules of actions: each step on its working day around the due date, true
until the next one's day, taken once, and nothing for a closed action or on a day off.

The example cadence: reminders 10 working days before the due date and on the day, the
overdue reminder 1 working day after, the escalation to the agency lead 5 after. In 2026
the early May bank holiday is Monday 4 May.
"""

from __future__ import annotations

import datetime as dt

import pytest

from audit_core.domain.action_follow_up import (
    describe,
    digest_day,
    due_step,
    follow_up_steps,
    next_follow_up_on,
    true_step,
)
from audit_core.domain.policy import ActionFollowUp

POLICY = ActionFollowUp()  # reminders (10, 0), overdue after 1, escalation after 5
DUE = dt.date(2026, 5, 7)  # Thursday 7 May 2026
OPEN = "open"


def d(month: int, day: int, year: int = 2026) -> dt.date:
    return dt.date(year, month, day)


def step_on(
    today: dt.date,
    taken: frozenset[str] = frozenset(),
    *,
    status: str = OPEN,
    set_on: dt.date | None = None,
) -> str | None:
    """The name of the step due on ``today`` for the action due on :data:`DUE`."""
    step = due_step(DUE, POLICY, today, taken, status=status, set_on=set_on)
    return step.name if step else None


def test_the_steps_fall_on_working_days_counted_from_the_due_date() -> None:
    steps = {s.name: (s.on, s.to) for s in follow_up_steps(DUE, POLICY)}
    assert steps == {
        "reminder-10": (d(4, 22), "owner"),  # ten working days back, skipping 4 May
        "reminder-0": (d(5, 7), "owner"),
        "overdue": (d(5, 8), "owner"),
        "escalation": (d(5, 14), "agency_lead"),
    }


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (d(4, 21), None),  # before the first reminder
        (d(4, 22), "reminder-10"),
        (d(4, 23), "reminder-10"),  # still true (not taken yet)
        (d(5, 6), "reminder-10"),
        (d(5, 7), "reminder-0"),
        (d(5, 8), "overdue"),
        (d(5, 13), "overdue"),
        (d(5, 14), "escalation"),
        (d(6, 30), "escalation"),  # the escalation stays true while the action is open
    ],
)
def test_each_step_is_true_from_its_day_until_the_next_one_s(
    today: dt.date, expected: str | None
) -> None:
    assert step_on(today) == expected


def test_nothing_is_due_on_a_weekend_or_a_bank_holiday() -> None:
    assert step_on(d(4, 25)) is None  # Saturday
    assert step_on(d(5, 4)) is None  # the early May bank holiday
    assert step_on(d(5, 10)) is None  # Sunday, during the overdue step
    assert true_step(DUE, POLICY, d(5, 5)) is not None  # the day after the holiday


def test_an_overdue_reminder_skips_a_weekend_and_a_bank_holiday() -> None:
    friday = d(5, 1)
    steps = {s.name: s.on for s in follow_up_steps(friday, POLICY)}
    assert steps["overdue"] == d(5, 5)  # not Monday 4 May
    assert due_step(friday, POLICY, d(5, 4), set(), status=OPEN) is None
    overdue = due_step(friday, POLICY, d(5, 5), set(), status=OPEN)
    assert overdue is not None and overdue.name == "overdue"


def test_a_due_date_on_a_saturday_has_its_reminder_on_the_friday_before() -> None:
    steps = {s.name: s.on for s in follow_up_steps(d(5, 9), POLICY)}
    assert steps["reminder-0"] == d(5, 8)
    assert steps["overdue"] == d(5, 11)


def test_each_step_is_taken_once() -> None:
    assert step_on(d(4, 23), frozenset({"reminder-10"})) is None
    assert step_on(d(5, 12), frozenset({"reminder-10", "reminder-0", "overdue"})) is None
    assert step_on(d(6, 1), frozenset({"escalation"})) is None


def test_after_an_outage_only_the_newest_true_step_is_taken() -> None:
    # Down from before the first reminder until after the overdue day: one email, the
    # overdue reminder; the two reminders before it have lapsed.
    assert step_on(d(5, 12)) == "overdue"
    # Down until after the escalation's day: only the escalation.
    assert step_on(d(5, 20)) == "escalation"


def test_a_step_whose_day_had_come_when_the_action_was_set_is_not_taken() -> None:
    set_on = d(4, 30)  # set a week before its due date: the first email gave the date
    assert step_on(d(5, 1), set_on=set_on) is None
    assert step_on(d(5, 7), set_on=set_on) == "reminder-0"


@pytest.mark.parametrize("status", ["done", "dropped"])
def test_nothing_is_due_for_an_action_done_or_dropped(status: str) -> None:
    for today in (d(4, 22), d(5, 7), d(5, 8), d(5, 14)):
        assert step_on(today, status=status) is None
    assert next_follow_up_on(DUE, POLICY, d(4, 1), set(), status=status) is None


def test_an_action_in_progress_is_still_followed_up() -> None:
    assert step_on(d(5, 8), status="in_progress") == "overdue"


def test_the_next_follow_up_day_is_the_next_step_not_taken() -> None:
    assert next_follow_up_on(DUE, POLICY, d(4, 1), set(), status=OPEN) == d(4, 22)
    assert next_follow_up_on(DUE, POLICY, d(4, 22), {"reminder-10"}, status=OPEN) == d(5, 7)
    # on a Friday, the next working day it is still true: the Tuesday after the holiday
    assert next_follow_up_on(DUE, POLICY, d(5, 1), set(), status=OPEN) == d(5, 5)
    everything = {"reminder-10", "reminder-0", "overdue", "escalation"}
    assert next_follow_up_on(DUE, POLICY, d(5, 14), everything, status=OPEN) is None


def test_a_second_reminder_setting_and_a_late_escalation_give_their_own_steps() -> None:
    policy = ActionFollowUp(reminders_before_due=(0, 5, 20), overdue_after=2, escalate_after=10)
    names = [s.name for s in follow_up_steps(DUE, policy)]
    assert names == ["reminder-20", "reminder-5", "reminder-0", "overdue", "escalation"]


def test_an_escalation_on_the_overdue_day_replaces_the_overdue_reminder() -> None:
    policy = ActionFollowUp(overdue_after=3, escalate_after=3)
    names = [s.name for s in follow_up_steps(DUE, policy)]
    assert names == ["reminder-10", "reminder-0", "escalation"]


def test_the_steps_in_words() -> None:
    words = [describe(s) for s in follow_up_steps(DUE, POLICY)]
    assert words == [
        "Reminder, 10 working days before the due date",
        "Reminder on the due date",
        "Overdue reminder",
        "Escalation to the agency lead",
    ]


# --- the weekly digest ----------------------------------------------------------------------


def test_the_digest_is_owed_from_its_weekday_to_the_end_of_that_week() -> None:
    assert digest_day(d(5, 11), "mon") == d(5, 11)
    assert digest_day(d(5, 13), "mon") == d(5, 11)  # missed on Monday: still owed
    assert digest_day(d(5, 13), "thu") is None  # not yet
    assert digest_day(d(5, 14), "thu") == d(5, 14)


def test_a_digest_day_on_a_bank_holiday_moves_to_the_next_working_day() -> None:
    assert digest_day(d(5, 4), "mon") is None  # the bank holiday itself
    assert digest_day(d(5, 5), "mon") == d(5, 5)
    assert digest_day(d(5, 8), "mon") == d(5, 5)


def test_no_digest_on_a_weekend_or_when_the_week_has_no_working_day_left() -> None:
    assert digest_day(d(5, 9), "mon") is None  # Saturday
    # Christmas Day 2026 is a Friday, and the next working day is in the week after.
    assert digest_day(d(12, 24), "fri") is None
