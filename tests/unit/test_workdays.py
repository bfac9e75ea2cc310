"""Working days skip weekends and England and Wales bank holidays; the timeline counts them."""

from __future__ import annotations

import datetime as dt

from audit_core.domain.policy import BoardConfig, Cadence, Escalation
from audit_core.domain.workdays import (
    add_working_days,
    bank_holiday_name,
    is_working_day,
    next_working_day,
    round_timeline,
    why_not_working,
    working_days_between,
)

D = dt.date


def test_weekends_are_not_working_days() -> None:
    assert is_working_day(D(2026, 3, 6))  # Friday
    assert not is_working_day(D(2026, 3, 7))
    assert not is_working_day(D(2026, 3, 8))
    assert next_working_day(D(2026, 3, 6)) == D(2026, 3, 9)


def test_good_friday_and_easter_monday_are_skipped() -> None:
    assert bank_holiday_name(D(2026, 4, 3)) == "Good Friday"
    assert not is_working_day(D(2026, 4, 6))
    assert next_working_day(D(2026, 4, 2)) == D(2026, 4, 7)
    assert add_working_days(D(2026, 4, 1), 3) == D(2026, 4, 8)


def test_boxing_day_on_a_saturday_moves_to_the_monday() -> None:
    assert not is_working_day(D(2026, 12, 28))
    assert next_working_day(D(2026, 12, 24)) == D(2026, 12, 29)


def test_christmas_on_a_weekend_moves_both_holidays_into_the_next_week() -> None:
    assert not is_working_day(D(2027, 12, 27))
    assert not is_working_day(D(2027, 12, 28))
    assert next_working_day(D(2027, 12, 24)) == D(2027, 12, 29)


def test_the_late_may_bank_holiday_is_skipped() -> None:
    assert next_working_day(D(2026, 5, 22)) == D(2026, 5, 26)


def test_a_bank_holiday_moved_for_a_jubilee_is_followed() -> None:
    assert is_working_day(D(2022, 5, 30))  # the usual last Monday of May was a working day
    assert not is_working_day(D(2022, 6, 2))
    assert not is_working_day(D(2022, 6, 3))


def test_counting_backwards_skips_holidays_too() -> None:
    assert add_working_days(D(2026, 4, 7), -1) == D(2026, 4, 2)
    assert add_working_days(D(2026, 4, 7), 0) == D(2026, 4, 7)


def test_working_days_between_counts_the_days_after_the_start() -> None:
    assert working_days_between(D(2026, 4, 2), D(2026, 4, 7)) == 1
    assert working_days_between(D(2026, 4, 7), D(2026, 4, 2)) == 0


def test_a_day_off_is_explained() -> None:
    assert why_not_working(D(2026, 3, 7)) == "a Saturday"
    assert why_not_working(D(2026, 4, 3)) == "a bank holiday (Good Friday)"
    assert why_not_working(D(2026, 3, 9)) is None


def test_the_timeline_follows_the_cadence_across_easter_and_the_may_day_holiday() -> None:
    cadence = Cadence(
        returns_due=20,
        reminders_before_due=(5, 0),
        escalations=(
            Escalation(level=1, after_due=2, to="agency_lead"),
            Escalation(level=2, after_due=5, to="business_unit_manager"),
        ),
        audit_day_after_due=10,
        briefing_due_after_audit_day=20,
    )
    timeline = round_timeline(D(2026, 3, 3), cadence)
    assert timeline.due_on == D(2026, 3, 31)
    assert [(r.before_due, r.on) for r in timeline.reminders] == [
        (5, D(2026, 3, 24)),
        (0, D(2026, 3, 31)),
    ]
    assert [(e.level, e.on) for e in timeline.escalations] == [
        (1, D(2026, 4, 2)),
        (2, D(2026, 4, 9)),  # Good Friday and Easter Monday skipped
    ]
    assert timeline.audit_day_on == D(2026, 4, 16)
    assert timeline.briefing_due_on == D(2026, 5, 15)  # the early May bank holiday skipped


def test_the_timeline_lists_every_date_in_order(config: BoardConfig) -> None:
    timeline = round_timeline(D(2026, 3, 3), config.cadence)
    days = [day for day, _what in timeline.events()]
    assert days == sorted(days)
    whats = [what for _day, what in timeline.events()]
    assert whats[0].startswith("launch")
    assert whats[-1] == "briefing due"
    assert all(is_working_day(day) for day in days)
