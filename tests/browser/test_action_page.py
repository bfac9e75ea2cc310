"""The owner's page of an action in a real browser, on a phone: the link from the owner's
email opens the action, a note left out is pointed at, progress with evidence is
recorded, and once done the page is read-only; axe-core on every page, and screenshots
at phone and desktop width.

The module's portal serves its own database: round 2026-H1 at its briefing
(:mod:`support.briefing_rounds`) and one action from its voice-of-the-child lesson,
owned by Amara Bello and due Thursday 7 May 2026, made through the composition root
(its link emailed to an SMTP sink on loopback) on Tuesday 10 March.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from support import MAIL_FROM
from support.briefing_rounds import briefing_round
from support.live_server import LiveServer, listening_socket, url_of

from audit_core.adapters import db, smtp_sink
from audit_core.bootstrap import App
from audit_core.domain.models import Finding, OutboxMessage
from audit_core.domain.policy import BoardConfig
from audit_core.services.unit_of_work import UnitOfWork

from .harness import PHONE, PORTAL_NOW, plain_text
from .pages import fits_phone

Shoot = Callable[[Page, str], list[Path]]
Check = Callable[[Page], None]
TEXT = "Every strategy meeting records the child's own words and wishes."
MEASURE = "A dip sample of ten plans in September shows the child's words in eight."
EVIDENCE = "https://intranet.hackney.example.org/practice/voice-guide"


@dataclass(frozen=True)
class Owned:
    """The portal serving the action, and the link in its owner's email."""

    url: str
    link: str
    action_id: int


@pytest.fixture(scope="module")
def owned(
    config: BoardConfig, tmp_path_factory: pytest.TempPathFactory, _portal_template: Path
) -> Iterator[Owned]:
    from audit_core.portal.app import create_app

    database = tmp_path_factory.mktemp("action-page") / "auditround.db"
    shutil.copyfile(_portal_template, database)
    engine = db.make_engine(f"sqlite:///{database}")
    sock = listening_socket()
    sink = smtp_sink.start()
    mail = sink.settings(mail_from=MAIL_FROM, public_url=url_of(sock))
    app = App(config=config, engine=engine, smtp=mail, clock=lambda: PORTAL_NOW)
    try:
        with db.session_factory(engine)() as session:  # the round commits its own steps
            briefing_round(UnitOfWork(session, config, PORTAL_NOW, "alice"))
            lesson_id = session.scalars(
                select(Finding.id).where(Finding.theme_id == "voice-of-the-child")
            ).one()
        added, sent = app.add_action(
            lesson_id=lesson_id,
            text=TEXT,
            measure=MEASURE,
            owner="amara-bello",
            due_on=dt.date(2026, 5, 7),
        )
        assert sent.sent == 1
        [message] = app_messages(app)
        found = re.search(r"http://[\w.:]+/action/[A-Za-z0-9_-]+", plain_text(message))
        assert found, "no link in the owner's email"
        with LiveServer(create_app(app), sock):
            yield Owned(url_of(sock), found.group(0), added.id)
    finally:
        sock.close()
        sink.stop()
        engine.dispose()


def app_messages(app: App) -> list[OutboxMessage]:
    """The owner's link emails in the outbox, their bodies loaded."""
    with app.unit_of_work() as uow:
        found = list(
            uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "action_link"))
        )
        for message in found:
            _ = message.body.raw
        uow.session.expunge_all()
        return found


def press(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Record progress").click()


def test_an_owner_records_progress_on_a_phone_until_the_action_is_done(
    owned: Owned, page: Page, shoot: Shoot, assert_accessible: Check
) -> None:
    page.set_viewport_size(PHONE)
    page.goto(owned.link)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Action {owned.action_id}")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text(TEXT)
    expect(facts).to_contain_text("The children's own words were not recorded.")
    expect(facts).to_contain_text("Thursday 7 May 2026")
    expect(facts).to_contain_text("Green")
    expect(page.get_by_text("No update yet.")).to_be_visible()
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "action-page")

    page.get_by_label("In progress", exact=True).check()
    page.get_by_label("Evidence (optional)").fill(EVIDENCE)
    press(page)  # no note
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("The note of the update is missing.")
    expect(
        page.locator(".field-error", has=page.get_by_label("What has been done"))
    ).to_contain_text("Error: The note of the update is missing.")
    expect(page.get_by_label("Evidence (optional)")).to_have_value(EVIDENCE)
    expect(page.get_by_label("In progress")).to_be_checked()
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("What has been done")).to_be_focused()
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "action-page-error")

    page.get_by_label("What has been done").fill("Training booked for every team in April.")
    press(page)
    expect(page.get_by_role("status")).to_contain_text("Your update is recorded.")
    update = page.locator("ol.updates li").last
    expect(update).to_contain_text("Amara Bello: in progress")
    expect(update.get_by_role("link", name=EVIDENCE)).to_have_attribute("href", EVIDENCE)
    expect(page.get_by_label("Open", exact=True)).to_have_count(0)  # begun: not open again
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "action-page-recorded")

    page.get_by_label("Done", exact=True).check()
    page.get_by_label("What has been done").fill("Every team trained; the dip sample is booked.")
    page.get_by_label("Evidence (optional)").fill("Training register, April 2026")
    press(page)
    expect(page.locator(".notice").first).to_contain_text("Your update is recorded.")
    expect(page.get_by_text("This action is done")).to_be_visible()
    expect(page.locator("form")).to_have_count(0)
    expect(page.locator("ol.updates li")).to_have_count(2)
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "action-page-done")


def test_a_wrong_link_shows_the_plain_page_not_found(
    owned: Owned, page: Page, assert_accessible: Check
) -> None:
    page.set_viewport_size(PHONE)
    answer = page.goto(f"{owned.url}/action/not-a-real-link")
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert_accessible(page)
