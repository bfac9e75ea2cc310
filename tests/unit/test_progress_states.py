"""The dashboard's rules: which one state an audit shows when several hold, the next step
of its chase, and spreadsheet cells that never run as formulas."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from audit_core.domain.chasing import next_step
from audit_core.domain.policy import BoardConfig, Cadence
from audit_core.domain.progress import AuditFacts, shown_state, spreadsheet_text

DUE = dt.date(2026, 3, 30)  # a Monday
BEFORE, AFTER = dt.date(2026, 3, 27), dt.date(2026, 3, 31)

SENT = AuditFacts(status="issued", delivery="sent", due_on=DUE)
EVERYTHING = dataclasses.replace(SENT, opened=True, draft=True, escalated=True)


@pytest.mark.parametrize(
    ("facts", "today", "state"),
    [
        (AuditFacts(status="issued", delivery=None, due_on=DUE), BEFORE, "queued"),
        (AuditFacts(status="issued", delivery="queued", due_on=DUE), BEFORE, "queued"),
        (SENT, BEFORE, "sent"),
        (dataclasses.replace(SENT, opened=True), BEFORE, "opened"),
        (dataclasses.replace(SENT, opened=True, draft=True), BEFORE, "draft"),
        (dataclasses.replace(SENT, opened=True, draft=True), DUE, "draft"),  # due today
        (dataclasses.replace(SENT, opened=True, draft=True), AFTER, "overdue"),
        (EVERYTHING, AFTER, "escalated"),
        (EVERYTHING, BEFORE, "draft"),  # an escalation counts only once it is late
        (dataclasses.replace(EVERYTHING, delivery="failed"), AFTER, "failed"),
        (dataclasses.replace(EVERYTHING, status="submitted"), AFTER, "submitted"),
        (dataclasses.replace(EVERYTHING, status="declined"), AFTER, "declined"),
        (AuditFacts(status="unfilled", delivery=None, due_on=DUE), AFTER, "unfilled"),
        (AuditFacts(status="assigned", delivery=None, due_on=DUE), AFTER, "assigned"),
        (dataclasses.replace(EVERYTHING, reopened=True), AFTER, "draft"),
    ],
)
def test_the_first_state_that_holds_is_the_one_shown(
    facts: AuditFacts, today: dt.date, state: str
) -> None:
    assert shown_state(facts, today) == state


@pytest.fixture
def cadence(config: BoardConfig) -> Cadence:
    return config.cadence


def test_the_next_step_is_the_one_the_chase_takes_on_its_day(cadence: Cadence) -> None:
    step = next_step(
        DUE, cadence, chase_on=dt.date(2026, 3, 23), today=BEFORE, taken=set(), issued_on=None
    )
    assert step is not None and (step.name, step.on) == ("reminder-5", BEFORE)
    assert step.label == "Reminder, 5 working days before"
    step = next_step(DUE, cadence, chase_on=DUE, today=BEFORE, taken={"reminder-5"}, issued_on=None)
    assert step is not None and (step.name, step.on, step.label) == (
        "reminder-0",
        DUE,
        "Reminder on the day",
    )


def test_after_the_last_escalation_nothing_is_left_to_chase(cadence: Cadence) -> None:
    taken = {"reminder-5", "reminder-0", "overdue", "escalation-1", "escalation-2"}
    late = dt.date(2026, 4, 20)
    assert next_step(DUE, cadence, chase_on=late, today=late, taken=taken, issued_on=None) is None
    assert next_step(DUE, cadence, chase_on=None, today=late, taken=set(), issued_on=None) is None


def test_a_weekend_looks_to_the_next_working_day(cadence: Cadence) -> None:
    saturday = dt.date(2026, 3, 28)
    step = next_step(
        DUE, cadence, chase_on=saturday, today=saturday, taken={"reminder-5"}, issued_on=None
    )
    assert step is not None and (step.name, step.on) == ("reminder-0", DUE)


def test_escalations_are_named_for_whom_they_go_to(cadence: Cadence) -> None:
    first = dt.date(2026, 4, 1)
    taken = {"reminder-5", "reminder-0", "overdue"}
    step = next_step(DUE, cadence, chase_on=first, today=first, taken=taken, issued_on=None)
    assert step is not None and step.label == "Escalation to the agency lead"
    taken.add("escalation-1")
    step = next_step(DUE, cadence, chase_on=first, today=first, taken=taken, issued_on=None)
    assert step is not None and step.label == "Escalation to the business unit manager"


@pytest.mark.parametrize(
    ("typed", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+44 20 7946 0321", "'+44 20 7946 0321"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("Good practice = shared", "Good practice = shared"),
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),
        ("", ""),
        (None, ""),
    ],
)
def test_text_that_starts_like_a_formula_is_made_plain(typed: str | None, cell: str) -> None:
    assert spreadsheet_text(typed) == cell
