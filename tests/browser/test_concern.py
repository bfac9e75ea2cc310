"""An immediate safeguarding concern raised on the return form: the business unit is alerted
at once, by an email that names the case and links to the dashboard, and carries nothing the
auditor typed."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from audit_core.domain.models import OutboxMessage
from audit_core.domain.policy import BoardConfig

from .harness import Portal, Task, every_text
from .pages import field, fits_phone, save

Shoot = Callable[[Page, str], list[Path]]
Check = Callable[[Page], None]
CONCERN = "Bruises seen on the younger sibling at the last home visit were not followed up."
PRACTICE = "Practice detail only the return should hold"


def test_a_concern_alerts_the_business_unit_without_its_text(
    portal: Portal,
    task: Task,
    page: Page,
    config: BoardConfig,
    shoot: Shoot,
    assert_accessible: Check,
) -> None:
    page.goto(task.link)
    page.get_by_label("I have an immediate safeguarding concern about this child").check()
    save(page)  # ticked, not described yet: a draft, and no alert
    expect(page.get_by_role("status")).to_contain_text("Your draft is saved")
    still = page.locator(".notice", has_text="Still needed before you can submit")
    expect(
        still.get_by_role("link", name="Describe the immediate safeguarding concern.")
    ).to_have_attribute("href", "#concern_text")
    assert _alerts(portal, task) == []

    expect(
        page.get_by_label("I have an immediate safeguarding concern about this child")
    ).to_be_checked()
    field(page, "concern_text").fill(CONCERN)
    sections = [s.id for s in config.audit_tool.sections]
    field(page, f"good-{sections[0]}").fill(PRACTICE)
    save(page)
    expect(page.get_by_role("status").first).to_contain_text(
        "The business unit has been alerted to your immediate safeguarding concern"
    )
    expect(field(page, "concern_text")).to_have_value(CONCERN)
    assert_accessible(page)
    fits_phone(page)
    shoot(page, "return-form-concern-alerted")

    alerts = _alerts(portal, task)
    assert len(alerts) == 1
    alert = alerts[0]
    assert config.board.business_unit.email in " ".join(map(str, alert.recipients))
    text = every_text(alert)
    assert task.case_ref in text
    assert f"{portal.url}/dashboard/" in text
    for typed in (CONCERN, PRACTICE, "Bruises", "sibling"):
        assert typed not in text, f"the alert carries what the auditor typed: {typed!r}"
    _wait_until_delivered(portal, alert.message_id)

    save(page)  # saving again alerts nobody twice
    assert len(_alerts(portal, task)) == 1


def _alerts(portal: Portal, task: Task) -> list[OutboxMessage]:
    return [m for m in portal.messages(assignment_id=task.assignment_id) if m.kind == "concern"]


def _wait_until_delivered(portal: Portal, message_id: str, seconds: float = 10.0) -> None:
    """The alert is sent at once, after the page is answered, not at the next dispatch run."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(m.message_id.strip("<>") == message_id.strip("<>") for m in portal.sink.messages):
            return
        time.sleep(0.05)
    raise AssertionError(f"the concern alert {message_id} did not reach the mail server")
