"""Signing in to the dashboard in a real browser: the form, its error, the way out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from audit_core.services import users

from .harness import Portal

Shoot = Callable[[Page, str], list[Path]]
Check = Callable[[Page], None]
PASSWORD = "a long and memorable phrase"


@pytest.fixture(scope="module")
def coordinator(portal: Portal) -> str:
    with portal.app.unit_of_work(actor="test") as uow:
        users.add_user(
            uow,
            portal.app.passwords(),
            "sign-in-coordinator",
            name="Amara Bello",
            email="amara.bello@example.org",
            role="coordinator",
            password=PASSWORD,
        )
    return "sign-in-coordinator"


def test_a_wrong_password_is_told_and_the_right_one_signs_in_and_out(
    portal: Portal, coordinator: str, page: Page, shoot: Shoot, assert_accessible: Check
) -> None:
    page.goto(f"{portal.url}/sign-in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert_accessible(page)
    shoot(page, "sign-in")

    page.get_by_label("User name").fill(coordinator)
    page.get_by_label("Password").fill("not the password at all")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_text("The user name or password is not right")
    expect(page.get_by_label("User name")).to_have_value(coordinator)
    expect(page.get_by_label("Password")).to_have_value("")
    assert page.title().startswith("Error: Sign in")
    assert_accessible(page)
    shoot(page, "sign-in-error")

    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url == f"{portal.url}/dashboard"
    [cookie] = [c for c in page.context.cookies() if c["name"] == "auditround_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    assert not [c for c in page.context.cookies() if c["name"] == "auditround_session"]
    page.goto(f"{portal.url}/dashboard")
    assert page.url == f"{portal.url}/sign-in"
