"""The auditor's return form in a real browser: the whole path from the task email's link to
the receipt, by mouse and by keyboard, with axe-core on every page and screenshots of each."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect

from audit_core.domain.policy import BoardConfig

from .harness import DESKTOP, Portal, Task, plain_text
from .pages import (
    checked_grade,
    field,
    fits_phone,
    grade,
    grades,
    save,
    sections,
    submit,
    tab_until,
)

Shoot = Callable[[Page, str], list[Path]]
Check = Callable[[Page], None]


def test_the_form_shows_the_task_and_a_fieldset_per_section(
    portal: Portal,
    task: Task,
    page: Page,
    config: BoardConfig,
    shoot: Shoot,
    assert_accessible: Check,
) -> None:
    answer = page.goto(task.link)
    assert answer is not None and answer.status == 200
    facts = page.locator("dl.facts")
    for shown in (task.case_ref, task.area, task.agency, task.focus, "Monday 30 March 2026"):
        expect(facts).to_contain_text(shown)
    scale = grades(config)
    for number, (section_id, title) in enumerate(sections(config), start=1):
        fieldset = page.locator(f"fieldset:has(> legend:text-is('{number}. {title}'))")
        expect(fieldset).to_have_count(1)
        values = fieldset.locator(f"input[type='radio'][name='grade-{section_id}']")
        assert [values.nth(i).get_attribute("value") for i in range(values.count())] == scale
        for prefix in ("good", "develop", "recommend"):
            expect(fieldset.locator(f"textarea[name='{prefix}-{section_id}']")).to_have_count(1)
    for n in (1, 2, 3):
        expect(page.locator(f"select[name='strength-{n}-theme'] option")).to_have_count(
            len(config.themes) + 1
        )
        expect(field(page, f"strength-{n}-phrase")).to_have_count(1)
        expect(field(page, f"strength-{n}-text")).to_have_count(1)
        expect(page.locator(f"select[name='lesson-{n}-theme']")).to_have_count(1)
        expect(field(page, f"lesson-{n}-text")).to_have_count(1)
    expect(page.locator("input[type='checkbox'][name='concern'][value='yes']")).to_have_count(1)
    expect(field(page, "concern_text")).to_have_count(1)
    for text, value in (("Save draft", "save"), ("Submit return", "submit")):
        button = page.get_by_role("button", name=text, exact=True)
        expect(button).to_have_attribute("name", "intent")
        expect(button).to_have_attribute("value", value)
    decline = page.get_by_role("link", name="Decline this audit")
    assert decline.get_attribute("href") == f"{_path(task.link)}/decline"
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "return-form-new")


def test_an_auditor_saves_comes_back_and_submits(
    portal: Portal,
    task: Task,
    page: Page,
    browser: Browser,
    config: BoardConfig,
    shoot: Shoot,
    assert_accessible: Check,
) -> None:
    ids = [s for s, _ in sections(config)]
    first, last = ids[:3], ids[-1]
    page.goto(task.link)
    for n, section in enumerate(first):
        grade(page, section, grades(config)[n % 4])
        field(page, f"good-{section}").fill(f"Timely work on {section}, line one.\nLine two.")
    page.select_option("[name='strength-1-theme']", config.themes[0].id)
    field(page, "strength-1-phrase").fill("Persistent home visits")
    field(page, "strength-1-text").fill("The health visitor kept going until the child was seen.")
    save(page)

    expect(page.get_by_role("status")).to_contain_text("Your draft is saved")
    still = page.locator(".notice", has_text="Still needed before you can submit")
    for section_id, title in sections(config)[3:]:
        expect(still.get_by_role("link", name=f"Choose a grade for {title}.")).to_have_attribute(
            "href", f"#grade-{section_id}"
        )
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "return-form-draft-saved")

    # later, from the email again, in a browser that remembers nothing
    later = browser.new_context(viewport=DESKTOP)
    try:
        again = later.new_page()
        again.goto(task.link)
        for n, section in enumerate(first):
            assert checked_grade(again, section) == grades(config)[n % 4]
            expect(field(again, f"good-{section}")).to_have_value(
                f"Timely work on {section}, line one.\nLine two."
            )
        expect(field(again, "strength-1-theme")).to_have_value(config.themes[0].id)
        expect(field(again, "strength-1-phrase")).to_have_value("Persistent home visits")
        for section in ids[3:-1]:
            grade(again, section, "good")
        field(again, f"develop-{ids[3]}").fill("Typed just before submitting")
        submit(again)

        summary = again.locator(".error-summary")
        expect(summary).to_be_visible()
        assert _top(summary) < _top(again.locator("dl.facts").first)  # at the top of the page
        title = dict(sections(config))[last]
        link = summary.get_by_role("link", name=f"Choose a grade for {title}.")
        expect(link).to_have_attribute("href", f"#grade-{last}")
        beside = again.locator(f"#section-{last} .error-message")
        expect(beside).to_contain_text(f"Choose a grade for {title}.")
        expect(again).to_have_title(re.compile(r"^Error: "))
        expect(field(again, f"develop-{ids[3]}")).to_have_value("Typed just before submitting")
        assert checked_grade(again, ids[4]) == "good"
        assert_accessible(again)
        fits_phone(again)
        shoot(again, "return-form-submit-errors")

        link.click()
        assert again.url.endswith(f"#grade-{last}")
        grade(again, last, "requires-improvement")
        submit(again)
        expect(again.get_by_role("heading", level=1)).to_have_text("Return submitted")
        expect(again.locator("dl.facts").first).to_contain_text(task.case_ref)
        assert_accessible(again)
        fits_phone(again)
        shoot(again, "return-submitted")
    finally:
        later.close()

    receipts = [m for m in portal.messages(assignment_id=task.assignment_id) if m.kind == "receipt"]
    assert len(receipts) == 1
    assert task.auditor_email in " ".join(map(str, receipts[0].recipients))
    assert task.case_ref in plain_text(receipts[0])

    # the link now shows the return, read-only
    page.goto(task.link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Return submitted")
    expect(page.locator("textarea, input[type='radio'], select")).to_have_count(0)
    expect(page.get_by_role("button", name="Submit return")).to_have_count(0)
    page.get_by_text("Read your return").click()
    expect(page.locator("main")).to_contain_text("Timely work on")
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "return-submitted-read")
    posted = page.request.post(task.link, form={"intent": "submit", f"grade-{ids[0]}": "good"})
    assert posted.ok
    page.goto(task.link)
    page.get_by_text("Read your return").click()
    expect(page.locator(f"#answer-{ids[0]}").locator("xpath=..")).to_contain_text(
        config.scale.grades[0].label
    )


def test_keyboard_only(
    portal: Portal, task: Task, page: Page, config: BoardConfig, shoot: Shoot
) -> None:
    ids = [s for s, _ in sections(config)]
    page.goto(task.link)
    skip = tab_until(page, {"tag": "a"}, most=1)[-1]
    assert skip["text"] == "Skip to main content"
    passed = tab_until(page, {"id": f"grade-{ids[0]}"}, most=10)
    assert all(p["tag"] == "a" for p in passed[:-1]), passed  # only links come before it
    page.keyboard.press("Space")
    assert checked_grade(page, ids[0]) == grades(config)[0]
    page.keyboard.press("ArrowDown")
    assert checked_grade(page, ids[0]) == grades(config)[1]
    with page.expect_navigation():
        page.keyboard.press("Enter")  # the form's first button: Save draft
    expect(page.get_by_role("status")).to_contain_text("Your draft is saved")
    assert checked_grade(page, ids[0]) == grades(config)[1]

    page.locator("main").focus()
    for section in ids[1:]:  # each grade group is one stop of Tab; Space chooses its first grade
        tab_until(page, {"name": f"grade-{section}"})
        page.keyboard.press("Space")
    tab_until(page, {"tag": "button", "value": "submit"})
    with page.expect_navigation():
        page.keyboard.press("Space")
    expect(page.get_by_role("heading", level=1)).to_have_text("Return submitted")
    fits_phone(page)
    shoot(page, "return-submitted-by-keyboard")


def test_a_wrong_link_finds_nothing(
    portal: Portal, page: Page, shoot: Shoot, assert_accessible: Check
) -> None:
    answer = page.goto(f"{portal.url}/return/{'x' * 43}")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "page-not-found")


def _top(element: Locator) -> float:
    box = element.bounding_box()
    assert box is not None, f"{element} is not shown"
    return box["y"]


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]
