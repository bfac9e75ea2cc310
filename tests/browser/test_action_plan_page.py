"""The action plan in a real browser: a coordinator signs in, opens the lessons that went
forward, adds an action from one (meeting a refused value first), sees it on its own page
and in the plan, and records an update; axe-core on every page, and screenshots at phone
and desktop width.

The module's round (tests/browser/harness.py) is given two returns with lessons, through
the return form's use case as the auditors' links would; its returns are closed and its
audit day recorded whole, every finding forward, so the round is at its briefing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from support.collation import graded

from audit_core.services import returns
from audit_core.services.moderation import record_audit_day, start_sheet
from audit_core.services.round_lock import start_moderation

from .harness import Portal
from .pages import add_coordinator, fits_phone, sign_in_to

Shoot = Callable[[Page, str], list[Path]]
Check = Callable[[Page], None]
ROUND = "2026-H1"
LESSON = "The child's own words were not recorded."
ANSWERS = {
    ("HK-204518", "Hackney Children and Families Service"): {
        "lesson-1-theme": "voice-of-the-child",
        "lesson-1-text": LESSON,
    },
    ("CL-30412", "City of London Children and Families Team"): {
        "lesson-1-theme": "think-family",
        "lesson-1-text": "The mother's own needs were not assessed.",
    },
}
ACTION = "Add a field for the child's own words to the assessment form."


@pytest.fixture(scope="module")
def at_briefing(portal: Portal) -> Iterator[Portal]:
    """Two returns in, the audit day recorded whole, and a coordinator who can sign in."""
    config = portal.app.config()
    for task in list(portal.tasks):
        key = (task.case_ref, task.agency)
        if key not in ANSWERS:
            continue
        portal.tasks.remove(task)
        token = task.link.rsplit("/", 1)[1]
        with portal.app.unit_of_work(mail=True, actor="portal:link") as uow:
            outcome = returns.submit(uow, token, graded(config, "good", **ANSWERS[key]))
        assert outcome is not None and outcome.submitted, outcome and outcome.problems
    with portal.app.unit_of_work(actor="cli:alice") as uow:
        start_moderation(uow, ROUND)
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
        done = record_audit_day(
            uow, ROUND, dataclasses.replace(sheet, cases=cases, findings=findings)
        )
        assert done.moved_to_briefing, done.missing
        add_coordinator(portal, uow)
    yield portal


def looked_at(page: Page, name: str, shoot: Shoot, assert_accessible: Check) -> None:
    assert_accessible(page)
    fits_phone(page)
    shoot(page, name)


def test_a_coordinator_adds_an_action_from_a_lesson_and_finds_it_in_the_plan(
    at_briefing: Portal, page: Page, shoot: Shoot, assert_accessible: Check
) -> None:
    sign_in_to(page, at_briefing, "/dashboard/lessons")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lessons to act on")
    lesson = page.locator("section.lesson", has_text=LESSON)
    expect(lesson).to_contain_text("No action yet.")
    looked_at(page, "lessons", shoot, assert_accessible)

    with page.expect_navigation():
        lesson.get_by_role("link", name="Add an action").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("A new action from a lesson")
    expect(page.locator(".notice")).to_contain_text(LESSON)
    expect(page.get_by_label("Due date")).not_to_have_value("")
    looked_at(page, "action-new", shoot, assert_accessible)

    page.get_by_label("What will be done").fill(ACTION)
    page.get_by_label("Owner", exact=True).select_option(label="Amara Bello")
    with page.expect_navigation():
        page.get_by_role("button", name="Add the action and email its owner").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Measure of success: how will success be measured?")
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("Measure of success")).to_be_focused()
    expect(page.get_by_label("What will be done")).to_have_value(ACTION)
    looked_at(page, "action-new-refused", shoot, assert_accessible)

    page.get_by_label("Measure of success").fill(
        "A dip sample of 20 assessments in July finds the child's words in 18."
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Add the action and email its owner").click()
    expect(page.get_by_role("status")).to_contain_text("its owner is emailed a link")
    expect(page.locator(".lead")).to_have_text(ACTION)
    expect(page.locator(".facts")).to_contain_text("Amara Bello")
    looked_at(page, "action", shoot, assert_accessible)

    page.get_by_label("What has been done").fill("The new field is in the test system.")
    page.get_by_label("Status after this update").select_option("in_progress")
    with page.expect_navigation():
        page.get_by_role("button", name="Record the update").click()
    expect(page.get_by_role("status")).to_have_text("The update is kept.")
    expect(page.locator("table", has_text="Every update")).to_contain_text(
        "The new field is in the test system."
    )
    assert_accessible(page)

    with page.expect_navigation():
        page.get_by_role("link", name="Back to the action plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The action plan")
    row = page.locator("tbody tr", has_text=ACTION)
    expect(row).to_contain_text("Amara Bello")
    expect(row).to_contain_text("in progress")
    expect(row.locator(".tag.rag-green")).to_have_text("Green")
    looked_at(page, "action-plan", shoot, assert_accessible)

    with page.expect_navigation():
        page.get_by_role("link", name="the lessons to act on").click()
    made = page.locator("section.lesson", has_text=LESSON).locator("table")
    expect(made.locator("caption")).to_contain_text("Actions made from lesson")
    expect(made).to_contain_text("Amara Bello (Hackney Children and Families Service)")
    looked_at(page, "lessons-with-an-action", shoot, assert_accessible)

    page.goto(f"{at_briefing.url}/dashboard/actions")
    page.get_by_label("Status").select_option("done")
    with page.expect_navigation():
        page.get_by_role("button", name="Show the actions").click()
    expect(page.get_by_text("No action matches these filters.")).to_be_visible()
    assert "status=done" in page.url
    assert_accessible(page)
