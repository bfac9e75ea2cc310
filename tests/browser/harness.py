"""The browser tests' parts that are not fixtures: the round they run over, the portal
serving it, its tasks as the auditors' emails give them, and how axe's findings are told.

Debian's chromium, never a browser of Playwright's own, is what the tests drive.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import ViewportSize
from sqlalchemy import select
from support import LONDON
from support.rounds import CaseSpec

from audit_core.adapters.smtp_sink import Sink
from audit_core.bootstrap import App
from audit_core.domain.models import Assignment, OutboxMessage
from audit_core.domain.policy import BoardConfig

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=900)
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ARTIFACTS_ENV = "AUDITROUND_TEST_ARTIFACTS"

# Tuesday 10 March 2026: the round opened on 2 March, its returns are due on 30 March.
PORTAL_NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=LONDON)
CASES = (
    CaseSpec(
        "HK-204518",
        "hackney",
        {"hackney-csc": "amara-bello", "met-police": "sarah-chukwuma", "gp": "kofi-asamoah"},
    ),
    CaseSpec(
        "CL-30412", "city", {"city-cft": "eleanor-ashdown", "city-police": "oliver-pemberton"}
    ),
    CaseSpec(
        "HK-204519", "hackney", {"health-visiting": "fatima-el-amin", "camhs": "samir-qureshi"}
    ),
    CaseSpec(
        "HK-204520", "hackney", {"hackney-csc": "tomasz-wierzbicki", "met-police": "daniel-costa"}
    ),
)
_LINK = re.compile(r"http://[\w.:]+/return/[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Task:
    """One auditor's task, as their task email gives it."""

    assignment_id: int
    link: str
    case_ref: str
    area: str
    agency: str
    focus: str
    due_on: dt.date
    auditor_email: str


@dataclass
class Portal:
    """The portal running for one test module: its address, its wiring, its mail sink."""

    url: str
    app: App
    sink: Sink
    tasks: list[Task] = field(default_factory=list)

    def take_task(self) -> Task:
        assert self.tasks, "every task of the module's round is used: add a case to CASES"
        return self.tasks.pop(0)

    def messages(self, *, assignment_id: int | None = None) -> list[OutboxMessage]:
        """The outbox, oldest first (only one assignment's messages, if given)."""
        with self.app.unit_of_work() as uow:
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            if assignment_id is not None:
                query = query.where(OutboxMessage.assignment_id == assignment_id)
            found = list(uow.session.scalars(query))
            for message in found:
                _ = message.body.raw  # loaded before the session closes
            uow.session.expunge_all()
            return found


def plain_text(message: OutboxMessage) -> str:
    """The text/plain part of a stored email."""
    parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
    body = parsed.get_body(("plain",))
    assert body is not None, f"message {message.id} has no plain text part"
    return str(body.get_content())


def every_text(message: OutboxMessage) -> str:
    """The subject and every text part (plain and HTML), decoded, of a stored email."""
    parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
    parts = [str(parsed["Subject"])]
    for part in parsed.walk():
        if part.get_content_maintype() == "text":
            parts.append(str(part.get_content()))
    return "\n".join(parts)


def read_tasks(portal: Portal, config: BoardConfig) -> list[Task]:
    """Every task of the launched round, its link read from its task email in the outbox."""
    areas = {a.id: a.name for a in config.board.areas}
    messages = [m for m in portal.messages() if m.kind == "task"]
    with portal.app.unit_of_work() as uow:
        tasks = []
        for message in messages:
            found = _LINK.search(plain_text(message))
            assert found, f"no link in task email {message.id}"
            assignment = uow.session.get_one(Assignment, message.assignment_id)
            assert assignment.auditor is not None
            tasks.append(
                Task(
                    assignment_id=assignment.id,
                    link=found.group(0),
                    case_ref=assignment.round_case.case.reference,
                    area=areas[assignment.round_case.area_id],
                    agency=assignment.agency.name,
                    focus=config.focus(assignment.round_case.round.focus_id).name,
                    due_on=assignment.due_on,
                    auditor_email=assignment.auditor.email,
                )
            )
    return tasks


def described(violations: list[dict[str, Any]]) -> str:
    """axe's violations, one a line, each with the elements it found (CSS selectors)."""
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact')}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {' '.join(map(str, node['target']))}")
            summary = node.get("failureSummary")
            if summary:
                lines.append("      " + summary.replace("\n", "\n      "))
    return "\n".join(lines)
