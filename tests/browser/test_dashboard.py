"""Signing in and the business unit's dashboard in a real browser: the rounds, a round's
progress, one audit; a concern alert's link leading, through sign-in, to the return; and a
QA member who reads without the forms that change things."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from audit_core.services import users

from .harness import CASES, DESKTOP, Portal, Task, every_text
from .pages import field, fits_phone, focused, save, tab_until

Shoot = Callable[[Page, str], list[Path]]
Check = Callable[[Page], None]
PASSWORD = "a long pass phrase for the test"
CONCERN = "The mother said the new partner had hit the child last week."


@pytest.fixture(scope="module")
def accounts(portal: Portal) -> Iterator[dict[str, str]]:
    """A coordinator and a QA member who can sign in (user name -> role)."""
    made = {"alice": "coordinator", "quentin": "qa"}
    with portal.app.unit_of_work(actor="cli:admin") as uow:
        for user_id, role in made.items():
            users.add_user(
                uow,
                portal.app.passwords(),
                user_id,
                name=user_id.title(),
                email=f"{user_id}@chscp.example.org",
                role=role,
                password=PASSWORD,
            )
    yield made


def sign_in(page: Page, user_name: str, password: str = PASSWORD) -> None:
    page.get_by_label("User name").fill(user_name)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def test_a_coordinator_signs_in_and_finds_an_audit(
    portal: Portal,
    accounts: dict[str, str],
    page: Page,
    shoot: Shoot,
    assert_accessible: Check,
) -> None:
    page.goto(f"{portal.url}/dashboard")
    assert page.url == f"{portal.url}/sign-in"
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "dashboard-asks-to-sign-in")

    sign_in(page, "alice", "not the password")
    expect(page.locator(".error-summary")).to_contain_text("The user name or password is not right")
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.get_by_label("User name")).to_have_value("alice")
    expect(page.get_by_label("Password")).to_have_value("")
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "dashboard-sign-in-refused")

    sign_in(page, "alice")
    assert page.url == f"{portal.url}/dashboard"
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit rounds")
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "dashboard-rounds")

    with page.expect_navigation():
        page.get_by_role("link", name="2026-H1").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Round 2026-H1")
    audits = sum(len(case.auditors) for case in CASES)
    expect(page.locator("dl.facts dt:text-is('Audits') + dd")).to_have_text(str(audits))
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "dashboard-round")

    with page.expect_navigation():
        page.get_by_role("link", name="HK-204518").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Case HK-204518")
    expect(page.get_by_role("heading", name="Change this audit")).to_be_visible()
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "dashboard-audit")

    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You have signed out")
    page.goto(f"{portal.url}/dashboard")
    assert page.url == f"{portal.url}/sign-in"


def test_the_concern_alert_links_through_sign_in_to_the_return(
    portal: Portal,
    accounts: dict[str, str],
    task: Task,
    page: Page,
    browser: Browser,
    shoot: Shoot,
    assert_accessible: Check,
) -> None:
    page.goto(task.link)
    page.get_by_label("I have an immediate safeguarding concern about this child").check()
    field(page, "concern_text").fill(CONCERN)
    save(page)
    alert = [m for m in portal.messages(assignment_id=task.assignment_id) if m.kind == "concern"]
    assert len(alert) == 1
    found = re.search(rf"{re.escape(portal.url)}/dashboard/\S+", every_text(alert[0]))
    assert found, "the concern alert has no link to the dashboard"
    link = found.group(0)

    office = browser.new_context(viewport=DESKTOP)  # the business unit's own browser
    try:
        reader = office.new_page()
        reader.goto(link)
        assert reader.url.startswith(f"{portal.url}/sign-in?next=")
        sign_in(reader, "alice")
        assert reader.url == link
        expect(reader.get_by_role("heading", level=1)).to_contain_text(task.case_ref)
        concern = reader.locator(".notice", has_text="Immediate safeguarding concern")
        expect(concern).to_contain_text(CONCERN)
        assert_accessible(reader)
        fits_phone(reader)
        shoot(reader, "dashboard-audit-concern")
    finally:
        office.close()


def test_a_qa_member_signs_in_by_keyboard_and_reads_only(
    portal: Portal,
    accounts: dict[str, str],
    page: Page,
    shoot: Shoot,
    assert_accessible: Check,
) -> None:
    page.goto(f"{portal.url}/sign-in")
    tab_until(page, {"id": "user_name"}, most=10)
    page.keyboard.type("quentin")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "password"
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{portal.url}/dashboard"
    expect(page.locator(".masthead")).to_contain_text("Read only")

    page.goto(f"{portal.url}/dashboard/rounds/2026-H1")
    with page.expect_navigation():
        page.get_by_role("link", name="CL-30412").first.click()
    expect(page.get_by_text("Your role reads the dashboard only")).to_be_visible()
    expect(page.locator("main form")).to_have_count(0)
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "dashboard-audit-read-only")
