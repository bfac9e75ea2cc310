"""The chasing rules on a deadline just before Easter 2026 (Good Friday 3 April, Easter
Monday 6 April): each step on its working day, once, never in a burst after an outage."""

from __future__ import annotations

import datetime as dt

import pytest

from audit_core.domain.chasing import chase_steps, due_step, next_chase_on, true_step
from audit_core.domain.policy import BoardConfig, Cadence, Escalation

DUE = dt.date(2026, 4, 2)  # a Thursday


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def cadence(config: BoardConfig) -> Cadence:
    return config.cadence


def test_the_steps_fall_on_working_days_counted_from_the_deadline(cadence: Cadence) -> None:
    steps = [(s.name, s.on.isoformat(), s.to) for s in chase_steps(DUE, cadence)]
    assert steps == [
        ("reminder-5", "2026-03-26", "auditor"),
        ("reminder-0", "2026-04-02", "auditor"),
        ("overdue", "2026-04-07", "auditor"),  # not Good Friday, not Easter Monday
        ("escalation-1", "2026-04-08", "agency_lead"),
        ("escalation-2", "2026-04-13", "business_unit_manager"),
    ]


def test_each_day_has_at_most_one_true_step_and_days_off_have_none(cadence: Cadence) -> None:
    start = day("2026-03-23")
    seen = {}
    for offset in range(30):
        today = start + dt.timedelta(days=offset)
        step = true_step(DUE, cadence, today)
        seen[today.isoformat()] = step.name if step else None
    assert seen["2026-03-25"] is None  # before the first reminder
    assert seen["2026-03-26"] == seen["2026-04-01"] == "reminder-5"
    assert seen["2026-03-28"] is None  # a Saturday
    assert seen["2026-04-02"] == "reminder-0"
    assert seen["2026-04-03"] is None  # Good Friday
    assert seen["2026-04-06"] is None  # Easter Monday
    assert seen["2026-04-07"] == "overdue"
    assert seen["2026-04-08"] == seen["2026-04-10"] == "escalation-1"
    assert seen["2026-04-13"] == seen["2026-04-21"] == "escalation-2"


def test_a_step_is_taken_once(cadence: Cadence) -> None:
    first = due_step(DUE, cadence, day("2026-03-26"), set())
    assert first is not None and first.name == "reminder-5"
    assert due_step(DUE, cadence, day("2026-03-27"), {"reminder-5"}) is None
    last = due_step(DUE, cadence, day("2026-04-20"), {"escalation-2"})
    assert last is None  # the last escalation stays true, but once is enough


def test_after_an_outage_only_the_step_still_true_is_taken(cadence: Cadence) -> None:
    # down from 25 March: back on 30 March, the first reminder is still true
    late = due_step(DUE, cadence, day("2026-03-30"), set())
    assert late is not None and late.name == "reminder-5"
    # down until the deadline: the first reminder has lapsed, only the day's one goes
    on_the_day = due_step(DUE, cadence, day("2026-04-02"), set())
    assert on_the_day is not None and on_the_day.name == "reminder-0"
    # down for a fortnight: straight to the manager; the lead's escalation has lapsed
    after = due_step(DUE, cadence, day("2026-04-15"), set())
    assert after is not None and (after.name, after.to) == (
        "escalation-2",
        "business_unit_manager",
    )


def test_the_next_chase_date_is_the_next_working_day_a_step_is_due(cadence: Cadence) -> None:
    assert next_chase_on(DUE, cadence, day("2026-03-20"), set()) == day("2026-03-26")
    assert next_chase_on(DUE, cadence, day("2026-03-26"), {"reminder-5"}) == day("2026-04-02")
    after_deadline = {"reminder-5", "reminder-0"}
    assert next_chase_on(DUE, cadence, day("2026-04-02"), after_deadline) == day("2026-04-07")
    everything = {s.name for s in chase_steps(DUE, cadence)}
    assert next_chase_on(DUE, cadence, day("2026-04-13"), everything) is None


def test_an_untaken_step_keeps_the_next_chase_date_within_its_window(cadence: Cadence) -> None:
    # reminder-5 not taken by 27 March: it can still go on 30 March (a Monday)
    assert next_chase_on(DUE, cadence, day("2026-03-27"), set()) == day("2026-03-30")


def test_an_escalation_on_the_first_late_day_replaces_the_overdue_reminder() -> None:
    cadence = Cadence(
        returns_due=20,
        reminders_before_due=(0,),
        escalations=(Escalation(level=1, after_due=1, to="agency_lead"),),
        audit_day_after_due=10,
        briefing_due_after_audit_day=20,
    )
    names = [s.name for s in chase_steps(DUE, cadence)]
    assert names == ["reminder-0", "escalation-1"]
