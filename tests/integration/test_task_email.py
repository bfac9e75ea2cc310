"""The emails of a launch, read as a mail client reads them after delivery."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime

import pytest
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.rounds import AUDIT_DAY_ON, DUE_ON, MAIL_FROM, PUBLIC_URL, delivered_round

from audit_core.adapters.mail_render import message_id_for
from audit_core.adapters.smtp_sink import Received, Sink
from audit_core.bootstrap import App
from audit_core.domain.models import OutboxMessage
from audit_core.domain.policy import BoardConfig
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database


@pytest.fixture
def delivered(uow: UnitOfWork, app: App, sink: Sink) -> list[Received]:
    """Launch the example round and deliver everything to the sink."""
    received = delivered_round(uow, app, sink)
    assert len(received) == 8
    return received


def addressed_to(received: list[Received], address: str) -> EmailMessage:
    (found,) = [r for r in received if address in r.rcpt_tos]
    return found.parsed()


def amaras_task(received: list[Received]) -> EmailMessage:
    return addressed_to(received, "amara.bello@example.org")


def text_and_html(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_the_task_has_text_and_html_alternatives_and_a_calendar_attachment(
    delivered: list[Received],
) -> None:
    message = amaras_task(delivered)
    alternatives = [p for p in message.walk() if p.get_content_type() == "multipart/alternative"]
    assert len(alternatives) == 1
    assert [p.get_content_type() for p in alternatives[0].iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    (attachment,) = message.iter_attachments()
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "case-audit-dates.ics"
    assert attachment.get_param("method") == "PUBLISH"


def test_the_task_headers_name_the_case_the_focus_and_the_deadline(
    delivered: list[Received], config: BoardConfig, now: dt.datetime
) -> None:
    message = amaras_task(delivered)
    assert message["Subject"] == "Case audit 2026-H1: HK-00123 (Think Family) - due Mon 30 Mar"
    assert parseaddr(str(message["From"])) == parseaddr(MAIL_FROM)
    assert parseaddr(str(message["To"])) == ("Amara Bello", "amara.bello@example.org")
    assert parseaddr(str(message["Reply-To"]))[1] == config.board.business_unit.email
    assert parsedate_to_datetime(str(message["Date"])) == now
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith(
        "@chscp.example.org>"
    )


def test_the_message_id_comes_from_the_installation_and_the_dedupe_key(
    delivered: list[Received], session: Session, installation: str
) -> None:
    for message in session.scalars(select(OutboxMessage)):
        expected = message_id_for(message.dedupe_key, "chscp.example.org", installation)
        assert message.message_id == expected
        assert expected in {r.message_id for r in delivered}


def test_the_calendar_holds_the_deadline_and_the_audit_day(delivered: list[Received]) -> None:
    (attachment,) = amaras_task(delivered).iter_attachments()
    calendar = Calendar.from_ical(attachment.get_content())
    assert str(calendar["METHOD"]) == "PUBLISH"
    events = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    due = events["Case audit return due: HK-00123 (Think Family)"]
    day = events["Case audit day: round 2026-H1 (Think Family)"]
    assert due.decoded("DTSTART") == DUE_ON
    assert day.decoded("DTSTART") == AUDIT_DAY_ON
    assert due.decoded("DTEND") == DUE_ON + dt.timedelta(days=1)
    assert len({str(e["UID"]) for e in events.values()}) == 2


def test_the_text_part_is_complete_on_its_own(
    delivered: list[Received], config: BoardConfig
) -> None:
    text, _html = text_and_html(amaras_task(delivered))
    unit = config.board.business_unit
    for expected in (
        "Dear Amara Bello",
        "Case reference:  HK-00123",
        "Area:            Hackney",
        "Your agency:     Hackney Children and Families Service",
        "Focus:           Think Family",
        "Return due:      Monday 30 March 2026",
        "Audit day:       Wednesday 15 April 2026",
        f"{PUBLIC_URL}/return/",
        "complete each section of the audit tool",
        "Voice of the child",
        "Submit your return by Monday 30 March 2026",
        "Decline at once",
        "worked on this case yourself",
        "immediate safeguarding concern",
        unit.email,
        unit.phone,
    ):
        assert expected in text, expected


def test_the_html_part_is_escaped_and_carries_the_same_link(delivered: list[Received]) -> None:
    text, html = text_and_html(amaras_task(delivered))
    link = next(w for w in text.split() if w.startswith(f"{PUBLIC_URL}/return/"))
    assert f'href="{link}"' in html
    assert "City &amp; Hackney Safeguarding Children Partnership" in html
    assert "City & Hackney" not in html
    assert 'name="viewport"' in html


def test_received_bytes_are_the_stored_bytes(delivered: list[Received], session: Session) -> None:
    stored = {m.message_id: m.raw for m in session.scalars(select(OutboxMessage))}
    for received in delivered:
        assert received.content.rstrip(b"\r\n") == stored[received.message_id].rstrip(b"\r\n")


def test_the_agency_lead_is_asked_to_nominate_for_a_gap(
    delivered: list[Received], config: BoardConfig
) -> None:
    lead = config.agency("gp").lead
    message = addressed_to(delivered, lead.email)
    text, _html = text_and_html(message)
    assert "please nominate an auditor for HK-00123" in str(message["Subject"])
    assert f"Dear {lead.name}" in text
    assert "did not work on this case" in text
    assert parseaddr(str(message["Reply-To"]))[1] == config.board.business_unit.email


def test_the_business_unit_gets_a_launch_summary(
    delivered: list[Received], config: BoardConfig
) -> None:
    message = addressed_to(delivered, config.board.business_unit.email)
    text, _html = text_and_html(message)
    assert message["Subject"] == "Case audit 2026-H1 launched: 5 tasks delivered, 2 to nominate"
    assert "HK-00123  Hackney Children and Families Service: Amara Bello" in text
    assert "HK-00456" in text and "CT-00042" in text
    assert f"asked {config.agency('housing').lead.name}" in text
