"""The browser tests' fixtures: the real portal on loopback, Debian's chromium, screenshots, axe.

- ``portal`` (one per test module): a copy of a migrated SQLite database in a temporary
  folder, an open round launched over it with its task emails delivered to an SMTP sink
  on loopback (their links point at this server), and uvicorn serving ``create_app`` in
  a background thread (stopped at the end of the module).
- ``task``: a task of that round no other test of the module has used, its secure link
  read from its task email, as the auditor would open it.
- ``browser`` (one for all the browser tests) and ``page`` (a fresh context per test):
  Playwright driving ``/usr/bin/chromium``. Playwright's own browsers are never installed;
  without Debian's chromium the tests fail, saying how to install it (``make browser``).
- ``shoot(page, name)``: full-page screenshots at phone (390x844) and desktop (1280x900)
  width into ``$AUDITROUND_TEST_ARTIFACTS``, or else this run's pytest temporary folder
  (its path is printed at the end of the run).
- ``assert_accessible(page)``: axe-core on the page; no WCAG 2.0/2.1 A or AA violation.

Every test in this folder is marked ``browser``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from support import MAIL_FROM
from support.live_server import LiveServer, listening_socket, url_of
from support.rounds import launched_round, planned_round

from audit_core.adapters import db, smtp_sink
from audit_core.bootstrap import App
from audit_core.domain.policy import BoardConfig

from .harness import (
    ARTIFACTS_ENV,
    CASES,
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    PORTAL_NOW,
    WCAG,
    Portal,
    Task,
    described,
    read_tasks,
)

_SHOTS: list[Path] = []  # this run's screenshot folder, for the summary at the end


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say where this run's screenshots are."""
    for folder in _SHOTS[:1]:
        if any(folder.iterdir()):
            terminalreporter.write_line(f"browser screenshots: {folder}")


# --- the portal -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _portal_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, made once and copied for each module's portal."""
    path = tmp_path_factory.mktemp("portal-template") / "template.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="module")
def portal(
    config: BoardConfig, tmp_path_factory: pytest.TempPathFactory, _portal_template: Path
) -> Iterator[Portal]:
    """The portal serving a launched round, for the tests of one module (always on SQLite)."""
    from audit_core.portal.app import create_app

    database = tmp_path_factory.mktemp("portal") / "auditround.db"
    shutil.copyfile(_portal_template, database)
    engine = db.make_engine(f"sqlite:///{database}")
    sock = listening_socket()
    sink = smtp_sink.start()
    mail = sink.settings(mail_from=MAIL_FROM, public_url=url_of(sock))
    app = App(config=config, engine=engine, smtp=mail, clock=lambda: PORTAL_NOW)
    try:
        with app.unit_of_work(mail=True, actor="alice") as uow:
            planned_round(uow, cases=CASES)
            launched_round(uow)
        delivered = app.dispatch()  # the task emails reach the auditors (the sink)
        assert delivered.failed == 0 and delivered.retrying == 0
        running = Portal(url_of(sock), app, sink)
        running.tasks = read_tasks(running, config)
        with LiveServer(create_app(app), sock):
            yield running
    finally:
        sock.close()
        sink.stop()
        engine.dispose()


@pytest.fixture
def task(portal: Portal) -> Task:
    """A task of the portal's round that no other test has opened."""
    return portal.take_task()


# --- the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's chromium, once for all the browser tests.

    Stopped after the last of them: while Playwright's sync API runs, the main thread's
    asyncio loop counts as running, which the other tests' ``asyncio.run`` would refuse.
    """
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Debian's chromium is not installed at {CHROMIUM}: run 'make browser' "
            "(make test does), or 'apt-get install chromium'. The browser tests need it.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies or history from other tests)."""
    context = browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: ``$AUDITROUND_TEST_ARTIFACTS``, else this run's temporary folder."""
    chosen = os.environ.get(ARTIFACTS_ENV)
    folder = Path(chosen) if chosen else tmp_path_factory.getbasetemp() / "browser-artifacts"
    (folder / "screenshots").mkdir(parents=True, exist_ok=True)
    _SHOTS.append(folder / "screenshots")
    return folder


@pytest.fixture
def shoot(artifacts: Path) -> Callable[[Page, str], list[Path]]:
    """``shoot(page, name)``: the whole page at phone and at desktop width, as PNG files."""

    def take(page: Page, name: str) -> list[Path]:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
        before = page.viewport_size
        saved = []
        try:
            for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
                page.set_viewport_size(size)
                path = artifacts / "screenshots" / f"{safe}-{label}.png"
                page.screenshot(path=str(path), full_page=True)
                saved.append(path)
        finally:
            if before:
                page.set_viewport_size(before)
        return saved

    return take


@pytest.fixture
def assert_accessible() -> Callable[[Page], None]:
    """``assert_accessible(page)``: axe-core finds no WCAG 2.0/2.1 A or AA violation."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    options = {"runOnly": {"type": "tag", "values": WCAG}, "resultTypes": ["violations"]}

    def check(page: Page) -> None:
        violations = axe.run(page, options=options).response["violations"]
        assert not violations, f"axe on {page.url}:\n" + described(violations)

    return check
