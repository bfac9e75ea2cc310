"""The auditor's return form through the portal's own HTTP routes (the ASGI test client).

Each test launches the test round (tests/support/rounds.py), gives its issued tasks
tokens it knows, and then does what an auditor's browser does: GET the link, POST
the form.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from support.portal import known_tokens
from support.rounds import launched_round, planned_round
from support.trail import events

from audit_core.bootstrap import App
from audit_core.domain.models import (
    Assignment,
    AssignmentStatus,
    AuditReturn,
    AuditRound,
    OutboxMessage,
    RoundStatus,
)
from audit_core.portal.app import create_app
from audit_core.services.unit_of_work import UnitOfWork

HK_CSC = ("HK-00123", "hackney-csc")


@pytest.fixture
def tokens(uow: UnitOfWork) -> dict[tuple[str, str], str]:
    planned_round(uow)
    launched_round(uow)
    return known_tokens(uow.session)


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with TestClient(create_app(app), base_url="https://audits.chscp.example.org") as client:
        yield client


def sections(app: App) -> list[str]:
    return [s.id for s in app.config().audit_tool.sections]


def complete(app: App, **extra: str) -> dict[str, str]:
    """A whole return: every section graded, one strength and one lesson."""
    fields = {f"grade-{s}": "good" for s in sections(app)}
    fields |= {
        f"good-{sections(app)[0]}": "Risks were recognised at the first contact.",
        "strength-1-theme": "information-sharing",
        "strength-1-phrase": "a shared chronology",
        "strength-1-text": "Health and police shared what they knew within a day.",
        "lesson-1-theme": "voice-of-the-child",
        "lesson-1-text": "The child's own words were not recorded.",
    }
    return fields | extra


def assignment_of(session: Session, case_ref: str, agency: str) -> Assignment:
    session.expire_all()  # what the portal's own transactions committed
    return next(
        a
        for a in session.scalars(select(Assignment))
        if a.round_case.case.reference == case_ref and a.agency_id == agency
    )


def messages(session: Session, kind: str) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def text_of(message: OutboxMessage) -> str:
    parsed = BytesParser(policy=policy.default).parsebytes(message.raw)
    body = parsed.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


# --- opening the link ---------------------------------------------------------------------


@pytest.mark.database
def test_the_link_opens_the_task_with_the_case_and_the_tool_and_is_recorded_as_opened(
    client: TestClient, tokens: dict[tuple[str, str], str], app: App, session: Session
) -> None:
    page = client.get(f"/return/{tokens[HK_CSC]}")
    assert page.status_code == 200
    for shown in (
        "HK-00123",
        "Hackney",
        "Hackney Children",
        "Think Family",
        "Monday 30 March 2026",
    ):
        assert shown in page.text
    for section in app.config().audit_tool.sections:
        assert section.title in page.text
        assert f'name="grade-{section.id}"' in page.text
    assert "Outstanding" in page.text and "Requires improvement" in page.text
    client.get(f"/return/{tokens[HK_CSC]}")  # a second opening is not a second event
    assignment = assignment_of(session, *HK_CSC)
    assert assignment.opened_at is not None
    opened = [e for e in events(session) if e.action == "task_opened"]  # fmt: skip
    assert [(e.actor, e.object_id) for e in opened] == [("link:amara-bello", str(assignment.id))]


@pytest.mark.database
@pytest.mark.parametrize(
    "token", ["nothing-like-a-token", "test-token-9999-" + "x" * 28, "%C3%A9t%C3%A9", "a" * 500]
)
def test_a_wrong_token_gets_a_plain_404_that_gives_no_hint(
    client: TestClient, tokens: dict[tuple[str, str], str], token: str
) -> None:
    page = client.get(f"/return/{token}")
    assert page.status_code == 404
    assert "Page not found" in page.text
    assert "HK-00123" not in page.text and "expired" not in page.text.lower()


@pytest.mark.database
def test_a_client_trying_many_wrong_links_is_stopped_for_a_while(
    client: TestClient, tokens: dict[tuple[str, str], str]
) -> None:
    for n in range(20):
        assert client.get(f"/return/guess-{n}").status_code == 404
    assert client.get("/return/guess-21").status_code == 429
    # the allowance is per client: over it, even a right link waits
    assert client.get(f"/return/{tokens[HK_CSC]}").status_code == 429


@pytest.mark.database
def test_a_link_stops_working_when_its_round_is_over(
    client: TestClient, tokens: dict[tuple[str, str], str], session: Session
) -> None:
    audit_round = session.get(AuditRound, "2026-H1")
    assert audit_round is not None
    audit_round.status = RoundStatus.CLOSED
    session.commit()
    assert client.get(f"/return/{tokens[HK_CSC]}").status_code == 404


# --- drafts ----------------------------------------------------------------------------


@pytest.mark.database
def test_a_draft_keeps_what_was_typed_and_says_what_is_still_missing(
    client: TestClient, tokens: dict[tuple[str, str], str], app: App, session: Session
) -> None:
    first = sections(app)[0]
    link = f"/return/{tokens[HK_CSC]}"
    saved = client.post(
        link,
        data={"intent": "save", f"grade-{first}": "good", f"develop-{first}": "Slow to refer."},
    )
    assert saved.status_code == 200
    assert "Your draft is saved" in saved.text
    again = client.get(link)
    assert re.search(rf'name="grade-{first}" value="good"[^>]* checked', again.text)
    assert "Slow to refer." in again.text
    assert "Still needed before you can submit" in again.text
    assert f'href="#grade-{sections(app)[1]}"' in again.text
    assert f'href="#grade-{first}"' not in again.text
    stored = session.scalars(select(AuditReturn)).one()
    assert stored.status == "draft" and stored.answers[first]["development"] == "Slow to refer."
    assert assignment_of(session, *HK_CSC).status == AssignmentStatus.ISSUED


@pytest.mark.database
def test_a_value_the_form_cannot_take_is_refused_next_to_its_field_and_nothing_is_lost(
    client: TestClient, tokens: dict[tuple[str, str], str], app: App, session: Session
) -> None:
    first = sections(app)[0]
    page = client.post(
        f"/return/{tokens[HK_CSC]}",
        data={
            "intent": "save",
            f"grade-{first}": "brilliant",
            "strength-1-theme": "not-a-theme",
            "lesson-1-text": "Kept as typed.",
        },
    )
    assert page.status_code == 422
    assert "There is a problem" in page.text
    assert f'href="#grade-{first}"' in page.text and 'href="#strength-1-theme"' in page.text
    assert "Kept as typed." in page.text
    assert session.scalars(select(AuditReturn)).one_or_none() is None


# --- submitting ------------------------------------------------------------------------


@pytest.mark.database
def test_a_submission_with_a_section_ungraded_is_refused_with_the_error_by_the_field(
    client: TestClient, tokens: dict[tuple[str, str], str], app: App, session: Session
) -> None:
    last = sections(app)[-1]
    fields = complete(app)
    del fields[f"grade-{last}"]
    page = client.post(f"/return/{tokens[HK_CSC]}", data={"intent": "submit", **fields})
    assert page.status_code == 422
    assert f'<a href="#grade-{last}">' in page.text
    assert f'id="grade-{last}-error"' in page.text
    assert "Health and police shared what they knew within a day." in page.text
    assert assignment_of(session, *HK_CSC).status == AssignmentStatus.ISSUED


@pytest.mark.database
def test_a_complete_submission_is_read_only_afterwards_with_a_receipt_on_screen_and_by_email(
    client: TestClient, tokens: dict[tuple[str, str], str], app: App, session: Session
) -> None:
    link = f"/return/{tokens[HK_CSC]}"
    done = client.post(link, data={"intent": "submit", **complete(app)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == link
    page = client.get(link)
    assert "Return submitted" in page.text and "<textarea" not in page.text
    assert "a shared chronology" in page.text
    assignment = assignment_of(session, *HK_CSC)
    assert assignment.status == AssignmentStatus.SUBMITTED and assignment.chase_on is None
    [receipt] = messages(session, "receipt")
    assert receipt.recipients == ["amara.bello@example.org"]
    assert "HK-00123" in receipt.subject and "Think Family" in text_of(receipt)
    # a later post changes nothing
    client.post(link, data={"intent": "save", f"grade-{sections(app)[0]}": "inadequate"})
    stored = session.scalars(select(AuditReturn)).one()
    session.refresh(stored)
    assert stored.answers[sections(app)[0]]["grade"] == "good" and stored.status == "submitted"
    assert len(messages(session, "receipt")) == 1


@pytest.mark.database
def test_typed_markup_is_shown_as_text(
    client: TestClient, tokens: dict[tuple[str, str], str], app: App
) -> None:
    link = f"/return/{tokens[HK_CSC]}"
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    client.post(link, data={"intent": "save", f"good-{sections(app)[0]}": hostile})
    page = client.get(link)
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text


# --- the immediate concern ---------------------------------------------------------------


@pytest.mark.database
def test_a_described_concern_alerts_the_business_unit_once_with_no_case_content(
    client: TestClient, tokens: dict[tuple[str, str], str], app: App, session: Session
) -> None:
    link = f"/return/{tokens[HK_CSC]}"
    secret = "Bruises seen on the younger sibling at the last visit."
    undescribed = client.post(link, data={"intent": "save", "concern": "yes"})
    assert "has been alerted" not in undescribed.text and not messages(session, "concern")
    assert 'href="#concern_text"' in client.get(link).text  # still needed before submitting
    page = client.post(link, data={"intent": "save", "concern": "yes", "concern_text": secret})
    assert "The business unit has been alerted" in page.text
    client.post(
        link, data={"intent": "submit", **complete(app, concern="yes", concern_text=secret)}
    )
    [alert] = messages(session, "concern")
    assert alert.recipients == [app.config().board.business_unit.email]
    body = text_of(alert)
    assert "HK-00123" in alert.subject and "HK-00123" in body
    assignment = assignment_of(session, *HK_CSC)
    assert f"/dashboard/rounds/2026-H1/returns/{assignment.id}" in body
    assert "Bruises" not in alert.raw.decode("utf-8", "replace") and "sibling" not in body
    assert [e.action for e in events(session) if e.action == "concern_raised"] == ["concern_raised"]


# --- declining -------------------------------------------------------------------------


@pytest.mark.database
def test_an_auditor_declines_with_a_reason_and_the_link_stops_working(
    client: TestClient, tokens: dict[tuple[str, str], str], session: Session
) -> None:
    link = f"/return/{tokens[HK_CSC]}"
    assert "Decline this audit" in client.get(link).text
    empty = client.post(f"{link}/decline", data={"reason": "  "})
    assert empty.status_code == 422 and "Say why you are declining." in empty.text
    done = client.post(f"{link}/decline", data={"reason": "I chaired this child's conference."})
    assert done.status_code == 200 and "Audit declined" in done.text
    assignment = assignment_of(session, *HK_CSC)
    assert assignment.status == AssignmentStatus.DECLINED
    assert assignment.declined_reason == "I chaired this child's conference."
    assert len(messages(session, "declined")) == 1
    assert client.get(link).status_code == 404


# --- the deadline lock --------------------------------------------------------------------


@pytest.mark.database
def test_after_the_round_moves_to_moderation_the_form_is_read_only_unless_reopened(
    client: TestClient,
    tokens: dict[tuple[str, str], str],
    app: App,
    engine: Engine,
    session: Session,
) -> None:
    from audit_core.services.round_lock import start_moderation

    link = f"/return/{tokens[HK_CSC]}"
    first = sections(app)[0]
    client.post(link, data={"intent": "save", f"grade-{first}": "good"})
    with app.unit_of_work() as uow:
        assert start_moderation(uow, "2026-H1").moved
    page = client.get(link)
    assert "can no longer be changed" in page.text and "<textarea" not in page.text
    client.post(link, data={"intent": "save", f"grade-{first}": "inadequate"})
    stored = session.scalars(select(AuditReturn)).one()
    assert stored.answers[first]["grade"] == "good"
    stored.reopened_at = dt.datetime(2026, 4, 1, 9, tzinfo=dt.UTC)
    stored.reopened_by = "cora"
    session.commit()
    assert "<textarea" in client.get(link).text


@pytest.mark.database
def test_every_page_carries_the_security_headers(
    client: TestClient, tokens: dict[tuple[str, str], str]
) -> None:
    for path in (f"/return/{tokens[HK_CSC]}", "/return/wrong", "/health"):
        headers = client.get(path).headers
        assert "'unsafe-inline'" not in headers["content-security-policy"]
        assert "script-src" not in headers["content-security-policy"]  # default-src 'none'
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"
