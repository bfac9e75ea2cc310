"""What the browser tests do on the return form, the way an auditor does it: by label and button.

Fields are found by the names the form posts (``grade-<section>``, ``good-<section>``,
``strength-<n>-theme``, ...: see :mod:`audit_core.domain.returns`), buttons and links by
their visible text.
"""

from __future__ import annotations

from playwright.sync_api import Locator, Page

from audit_core.domain.policy import BoardConfig
from audit_core.services import users
from audit_core.services.unit_of_work import UnitOfWork

from .harness import PHONE, Portal

COORDINATOR_PASSWORD = "a long pass phrase for the test"


def field(page: Page, name: str) -> Locator:
    return page.locator(f"[name='{name}']")


def grade_radio(page: Page, section: str, grade: str) -> Locator:
    return page.locator(f"input[type='radio'][name='grade-{section}'][value='{grade}']")


def grade(page: Page, section: str, grade_id: str) -> None:
    """Choose a grade (clicking its radio button, as a person would)."""
    grade_radio(page, section, grade_id).check()


def checked_grade(page: Page, section: str) -> str | None:
    checked = page.locator(f"input[name='grade-{section}']:checked")
    return checked.get_attribute("value") if checked.count() else None


def press(page: Page, text: str) -> None:
    """Click the button with this text and wait for the page it leads to."""
    with page.expect_navigation():
        page.get_by_role("button", name=text, exact=True).click()


def save(page: Page) -> None:
    press(page, "Save draft")


def submit(page: Page) -> None:
    press(page, "Submit return")


def sections(config: BoardConfig) -> list[tuple[str, str]]:
    """The audit tool's sections: (id, title), in order."""
    return [(s.id, s.title) for s in config.audit_tool.sections]


def grades(config: BoardConfig) -> list[str]:
    return [g.id for g in config.scale.grades]


def focused(page: Page) -> dict[str, str]:
    """The element that has the keyboard focus: its tag, id, name, type, value and text."""
    found: dict[str, str] = page.evaluate(
        """() => {
            const e = document.activeElement;
            return {
                tag: e ? e.tagName.toLowerCase() : '',
                id: (e && e.id) || '',
                name: (e && e.getAttribute('name')) || '',
                type: (e && e.getAttribute('type')) || '',
                value: (e && e.value) || '',
                text: e ? (e.innerText || '').trim() : '',
            };
        }"""
    )
    return found


def tab_until(page: Page, wanted: dict[str, str], most: int = 120) -> list[dict[str, str]]:
    """Press Tab until the focused element has every attribute in ``wanted``; the elements
    passed on the way (the last one is the wanted one). Fails after ``most`` presses."""
    passed = []
    for _ in range(most):
        page.keyboard.press("Tab")
        now = focused(page)
        passed.append(now)
        if all(now.get(key) == value for key, value in wanted.items()):
            return passed
    raise AssertionError(f"{most} presses of Tab never reached {wanted}; the last: {passed[-3:]}")


def fits_phone(page: Page) -> None:
    """At phone width nothing is wider than the screen (no sideways scrolling, WCAG 1.4.10)."""
    before = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{page.url} is {width}px wide on a 390px wide phone"
    finally:
        if before:
            page.set_viewport_size(before)


def add_coordinator(portal: Portal, uow: UnitOfWork) -> None:
    """Alice, a coordinator, who signs in with :data:`COORDINATOR_PASSWORD`."""
    users.add_user(
        uow,
        portal.app.passwords(),
        "alice",
        name="Alice",
        email="alice@chscp.example.org",
        role="coordinator",
        password=COORDINATOR_PASSWORD,
    )


def sign_in_to(page: Page, portal: Portal, target: str) -> None:
    """Open ``target`` and sign in as Alice on the way, back to ``target``."""
    page.goto(f"{portal.url}{target}")
    page.get_by_label("User name").fill("alice")
    page.get_by_label("Password").fill(COORDINATOR_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url == f"{portal.url}{target}"
