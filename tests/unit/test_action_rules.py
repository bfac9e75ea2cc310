"""The rules of an action: its RAG rating counted in working days (Easter and the May bank
holidays of 2026 skipped), its default due date, and what its input must be."""

from __future__ import annotations

import datetime as dt

import pytest

from audit_core.domain.actions import (
    ActionInput,
    check_action,
    check_update,
    default_due,
    parse_status,
    rag_of,
    shown_rag,
)
from audit_core.domain.errors import NotFound, Problem
from audit_core.domain.policy import ActionFollowUp, BoardConfig

RULE = ActionFollowUp()  # amber within 20 working days of the due date, stale after 40
MONDAY = dt.date(2026, 3, 23)  # Good Friday 3 April and Easter Monday 6 April follow


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_a_closed_action_is_green_however_late_and_a_dropped_one_shows_no_rating() -> None:
    long_ago = day("2025-01-06")
    assert rag_of("done", long_ago, long_ago, MONDAY, RULE) == "green"
    assert rag_of("dropped", long_ago, long_ago, MONDAY, RULE) == "green"
    assert shown_rag("dropped", "green") == "-"
    assert shown_rag("done", "green") == "green"


def test_an_action_is_red_from_the_day_after_its_due_date() -> None:
    due = day("2026-03-20")  # a Friday
    assert rag_of("in_progress", due, due, day("2026-03-20"), RULE) == "green"
    assert rag_of("in_progress", due, due, day("2026-03-21"), RULE) == "red"
    assert rag_of("open", due, due, MONDAY, RULE) == "red"


def test_an_action_not_started_turns_amber_within_twenty_working_days_of_its_due_date() -> None:
    # 20 working days from 23 March reach 22 April, not 20 April: Easter is skipped
    assert rag_of("open", day("2026-04-22"), MONDAY, MONDAY, RULE) == "amber"
    assert rag_of("open", day("2026-04-23"), MONDAY, MONDAY, RULE) == "green"
    assert rag_of("open", MONDAY, MONDAY, MONDAY, RULE) == "amber"  # due today


def test_an_action_in_progress_is_not_amber_for_being_due_soon() -> None:
    assert rag_of("in_progress", day("2026-03-24"), MONDAY, MONDAY, RULE) == "green"


def test_an_action_without_an_update_for_forty_working_days_is_amber() -> None:
    today, due = day("2026-06-01"), day("2026-12-01")
    # 40 working days before 1 June 2026, skipping Easter and both May bank holidays
    assert rag_of("in_progress", due, day("2026-03-31"), today, RULE) == "amber"
    assert rag_of("in_progress", due, day("2026-04-01"), today, RULE) == "green"
    assert rag_of("open", due, day("2026-03-31"), today, RULE) == "amber"


def test_past_due_is_red_before_anything_else() -> None:
    stale = day("2026-01-05")
    assert rag_of("in_progress", day("2026-03-02"), stale, MONDAY, RULE) == "red"


def test_the_rule_follows_the_configured_numbers() -> None:
    rule = ActionFollowUp(amber_within=0, stale_after=5)
    assert rag_of("open", MONDAY, MONDAY, MONDAY, rule) == "amber"  # due today
    assert rag_of("open", day("2026-03-24"), MONDAY, MONDAY, rule) == "green"
    assert rag_of("in_progress", day("2026-06-01"), day("2026-03-16"), MONDAY, rule) == "amber"


@pytest.mark.parametrize(
    ("made", "months", "due"),
    [
        ("2026-03-02", 6, "2026-09-02"),  # a Wednesday: kept
        ("2026-05-31", 3, "2026-09-01"),  # 31 August 2026 is the summer bank holiday
        ("2026-08-31", 6, "2027-03-01"),  # 28 February 2027, a Sunday, after the month's end
        ("2026-06-25", 6, "2026-12-29"),  # Christmas, then Boxing Day's substitute Monday
    ],
)
def test_the_default_due_date_is_months_on_then_a_working_day(
    made: str, months: int, due: str
) -> None:
    assert default_due(day(made), months) == day(due)


def good(**changes: object) -> ActionInput:
    values: dict[str, object] = {
        "text": "Every strategy meeting records the child's own words.",
        "measure": "A dip sample of ten plans in March shows the child's words in eight.",
        "owner_name": "Amara Bello",
        "owner_email": "amara.bello@example.org",
        "agency_id": "hackney-csc",
        "due_on": day("2026-09-02"),
    }
    return ActionInput(**{**values, **changes})  # type: ignore[arg-type]


def reasons(problems: list[Problem]) -> dict[str, str]:
    return {p.location: p.reason for p in problems}


def test_a_good_action_has_no_problem(config: BoardConfig) -> None:
    assert check_action(good(), config, MONDAY) == []


def test_every_problem_of_an_action_is_named_at_once(config: BoardConfig) -> None:
    bad = good(
        text="",
        measure="",
        owner_name="",
        owner_email="amara.bello at example",
        agency_id="hackney-police",
        due_on=day("2026-03-20"),
    )
    found = reasons(check_action(bad, config, MONDAY))
    assert list(found) == ["text", "measure", "owner.name", "owner.email", "agency", "due_on"]
    assert found["text"] == "the action's text is missing"
    assert "how will success be measured?" in found["measure"]
    assert "not an email address" in found["owner.email"]
    assert "'hackney-police' is not an agency" in found["agency"]
    assert "known: hackney-csc, city-cft" in found["agency"]
    assert found["due_on"] == "2026-03-20 is before today (2026-03-23)"
    assert all(str(p).startswith("the action: ") for p in check_action(bad, config, MONDAY))


def test_a_due_date_on_a_day_off_is_refused(config: BoardConfig) -> None:
    found = reasons(check_action(good(due_on=day("2026-04-03")), config, MONDAY))
    assert found == {"due_on": "2026-04-03 is a bank holiday (Good Friday): choose a working day"}
    found = reasons(check_action(good(due_on=day("2026-04-04")), config, MONDAY))
    assert found == {"due_on": "2026-04-04 is a Saturday: choose a working day"}


def test_text_over_two_thousand_characters_is_refused(config: BoardConfig) -> None:
    assert check_action(good(text="x" * 2_000), config, MONDAY) == []
    found = reasons(check_action(good(measure="x" * 2_001), config, MONDAY))
    assert found == {"measure": "must be 2,000 characters or fewer (it has 2,001)"}


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("Check the plan for NHS 943 476 5919 again.", "an NHS number"),
        ("Visit the family at E8 1DY monthly.", "a postcode"),
        ("The child born 31/12/2015 needs a plan.", "a date of birth"),
    ],
)
def test_text_that_could_identify_a_child_is_refused_without_repeating_it(
    config: BoardConfig, text: str, what: str
) -> None:
    for field in ("text", "measure"):
        found = reasons(check_action(good(**{field: text}), config, MONDAY))
        assert found[field].startswith(f"this looks like it holds {what}, which could identify")
        assert text not in found[field]
    note = reasons(check_update(text, ""))
    assert note["note"].startswith(f"this looks like it holds {what}")


def test_an_update_needs_its_note_and_checks_its_evidence_and_reason() -> None:
    assert reasons(check_update("", "")) == {"note": "the note of the update is missing"}
    assert check_update("", "", note_required=False) == []
    found = reasons(check_update("Booked.", "y" * 2_001, "Seen at E8 1DY."))
    assert list(found) == ["evidence", "reason"]


def test_a_status_is_read_however_it_is_typed() -> None:
    assert parse_status("In progress") == "in_progress"
    assert parse_status("in-progress") == "in_progress"
    assert parse_status(" DONE ") == "done"
    with pytest.raises(NotFound, match="known: open, in_progress, done, dropped"):
        parse_status("finished")
