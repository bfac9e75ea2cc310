"""The audit day and the briefing editor in a real browser: a coordinator signs in, records
one case of the audit day, meets a refused value, then edits the briefing drafted once the
record is complete; axe-core on every page, and screenshots at phone and desktop width.

The module's round (tests/browser/harness.py) is given returns for three of its audits,
through the return form's use case as the auditors' links would, then its returns are
closed (moderation)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from support.collation import graded

from audit_core.domain.briefing_scope import rounds_scope
from audit_core.services import briefings, returns
from audit_core.services.moderation import record_audit_day, start_sheet
from audit_core.services.round_lock import start_moderation

from .harness import Portal
from .pages import add_coordinator, field, fits_phone, sign_in_to

Shoot = Callable[[Page, str], list[Path]]
Check = Callable[[Page], None]
ROUND = "2026-H1"
ANSWERS = {
    ("HK-204518", "Hackney Children and Families Service"): {
        "grade-recognition": "outstanding",
        "strength-1-theme": "information-sharing",
        "strength-1-phrase": "a shared chronology",
        "strength-1-text": "Health and police shared what they knew within a day.",
        "lesson-1-theme": "voice-of-the-child",
        "lesson-1-text": "The child's own words were not recorded.",
    },
    ("HK-204518", "Metropolitan Police (Central East BCU)"): {
        "strength-1-theme": "information-sharing",
        "strength-1-phrase": "same-day referral",
        "strength-1-text": "The referral reached children's services the same day.",
    },
    ("CL-30412", "City of London Children and Families Team"): {
        "lesson-1-theme": "think-family",
        "lesson-1-text": "The mother's own needs were not assessed.",
    },
}


@pytest.fixture(scope="module")
def moderating(portal: Portal) -> Iterator[Portal]:
    """Three returns in, the returns closed, and a coordinator who can sign in."""
    config = portal.app.config()
    grade = {("HK-204518", "Metropolitan Police (Central East BCU)"): "requires-improvement"}
    for task in list(portal.tasks):
        key = (task.case_ref, task.agency)
        if key not in ANSWERS:
            continue
        portal.tasks.remove(task)
        token = task.link.rsplit("/", 1)[1]
        fields = graded(config, grade.get(key, "good"), **ANSWERS[key])
        with portal.app.unit_of_work(mail=True, actor="portal:link") as uow:
            outcome = returns.submit(uow, token, fields)
        assert outcome is not None and outcome.submitted, outcome and outcome.problems
    with portal.app.unit_of_work(actor="cli:alice") as uow:
        start_moderation(uow, ROUND)
        add_coordinator(portal, uow)
    yield portal


def record(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Record the audit day").click()


def test_a_coordinator_records_one_case_of_the_audit_day(
    moderating: Portal, page: Page, shoot: Shoot, assert_accessible: Check
) -> None:
    sign_in_to(page, moderating, f"/dashboard/rounds/{ROUND}")
    with page.expect_navigation():
        page.get_by_role("link", name="The audit day").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Round {ROUND}: audit day")
    case = page.locator("fieldset:has(> legend:text-is('Case HK-204518, Hackney'))")
    expect(case.locator("caption")).to_have_text("What each agency's auditor graded")
    expect(case.locator("thead")).to_contain_text("Metropolitan Police (Central East BCU)")
    strength = page.locator("fieldset:has(> legend:text-is('Strength 1'))")
    expect(strength.get_by_label("Key phrase")).to_have_value("a shared chronology")
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "audit-day")

    case.get_by_label("Agreed grade").select_option("good")
    case.get_by_label("Key findings").fill(
        "Information was shared well; the child's voice was missing."
    )
    case.get_by_label("Brief summary for the briefing").fill(
        "A child of primary school age, living with a parent with low mood."
    )
    strength.get_by_label("Yes").check()
    record(page)
    expect(page.get_by_role("status")).to_contain_text("The audit day's record is saved.")
    expect(page.get_by_role("status")).to_contain_text("1 of 4 cases have an agreed grade")
    expect(page.locator(".notice", has_text="Still needed")).to_contain_text(
        "Case CL-30412 (city) has no agreed grade."
    )
    expect(case.get_by_label("Agreed grade")).to_have_value("good")
    expect(strength.get_by_label("Yes")).to_be_checked()
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "audit-day-recorded")

    case.get_by_label("Brief summary for the briefing").fill("Born 12/03/2019, lives with mum.")
    record(page)
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Case HK-204518, summary: this looks like it holds")
    with_error = case.locator(".field-error")
    expect(with_error).to_contain_text("could identify a child")
    summary.get_by_role("link").first.click()
    expect(case.get_by_label("Brief summary for the briefing")).to_be_focused()
    expect(case.get_by_label("Key findings")).to_have_value(
        "Information was shared well; the child's voice was missing."
    )
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "audit-day-refused")


def test_the_briefing_editor_is_accessible_and_saves_a_version(
    moderating: Portal, page: Page, shoot: Shoot, assert_accessible: Check
) -> None:
    app = moderating.app
    with app.unit_of_work(actor="cli:alice") as uow:
        sheet = start_sheet(uow, ROUND)
        cases = tuple(
            dataclasses.replace(
                c,
                agreed_grade="good",
                key_findings="Agreed.",
                summary="A family known to two agencies.",
            )
            for c in sheet.cases
        )
        findings = tuple(dataclasses.replace(f, forward=True) for f in sheet.findings)
        record_audit_day(uow, ROUND, dataclasses.replace(sheet, cases=cases, findings=findings))
        briefings.draft(uow, "hackney", rounds_scope([ROUND]))
    sign_in_to(page, moderating, "/dashboard")
    with page.expect_navigation():
        page.get_by_role("link", name="Briefings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Learning briefings")
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "briefings")

    with page.expect_navigation():
        page.get_by_role("link", name=f"Hackney, {ROUND}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Briefing: Hackney, {ROUND}")
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "briefing-editor")

    page.get_by_label("Introduction", exact=True).fill("What our audits found this spring.")
    field(page, "note").fill("An introduction.")
    with page.expect_navigation():
        page.get_by_role("button", name="Save as a new version").click()
    expect(page.get_by_role("status")).to_contain_text("saved as a new draft version")
    expect(page.get_by_label("Introduction", exact=True)).to_have_value(
        "What our audits found this spring."
    )
    expect(page.locator("table", has_text="Every version")).to_contain_text("An introduction.")
    assert_accessible(page)
