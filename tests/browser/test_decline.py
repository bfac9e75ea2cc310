"""Declining a task from the return form: the reason is required, the business unit is told,
and the link opens nothing afterwards."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from audit_core.domain.policy import BoardConfig

from .harness import Portal, Task, every_text
from .pages import fits_phone

Shoot = Callable[[Page, str], list[Path]]
Check = Callable[[Page], None]
REASON = "I supervised the social worker on this case, so I cannot audit it."


def test_an_auditor_declines_with_a_reason(
    portal: Portal,
    task: Task,
    page: Page,
    config: BoardConfig,
    shoot: Shoot,
    assert_accessible: Check,
) -> None:
    page.goto(task.link)
    with page.expect_navigation():
        page.get_by_role("link", name="Decline this audit").click()
    assert page.url == f"{task.link}/decline"
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Decline the audit of {task.case_ref}"
    )
    expect(page.locator("dl.facts")).to_contain_text(task.agency)
    expect(page.get_by_role("link", name="Back to the return")).to_have_attribute(
        "href", task.link.removeprefix(portal.url)
    )
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "decline-form")

    with page.expect_navigation():
        page.get_by_role("button", name="Decline").click()
    summary = page.locator(".error-summary")
    expect(summary.get_by_role("link", name="Say why you are declining.")).to_have_attribute(
        "href", "#reason"
    )
    expect(page.locator("#reason-error")).to_contain_text("Say why you are declining.")
    assert not [
        m for m in portal.messages(assignment_id=task.assignment_id) if m.kind == "declined"
    ]
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "decline-reason-missing")

    page.get_by_label("Why are you declining?").fill(REASON)
    with page.expect_navigation():
        page.get_by_role("button", name="Decline").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit declined")
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "declined")

    told = [m for m in portal.messages(assignment_id=task.assignment_id) if m.kind == "declined"]
    assert len(told) == 1
    assert config.board.business_unit.email in " ".join(map(str, told[0].recipients))
    assert task.case_ref in every_text(told[0]) and REASON in every_text(told[0])

    for link in (task.link, f"{task.link}/decline"):
        answer = page.goto(link)
        assert answer is not None and answer.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
