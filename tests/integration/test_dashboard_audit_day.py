"""The audit day's page on the dashboard: the sheet as a form, recorded by a coordinator.

The round is the collation test round (tests/support/collation.py) with its returns
closed (moderation): three cases (CT-00042 in the City, HK-00123 and HK-00456 in
Hackney), two strengths and two lessons from the three submitted returns. The form is
read back from the page as a browser would post it, changed, and posted.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.collation import collation_round
from support.dashboard_client import QUINN, form_of, portal
from support.trail import events

from audit_core.bootstrap import App
from audit_core.domain.models import AuditRound, CaseModeration, Finding
from audit_core.services.round_lock import start_moderation
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

ROUND = "2026-H1"
FORM = "audit-day"  # the id of the page's form
PATH = f"/dashboard/rounds/{ROUND}/audit-day"
SCRIPT = '<script>alert("x")</script>'
EVERY_CASE = {"CT-00042": "good", "HK-00123": "requires-improvement", "HK-00456": "good"}


@pytest.fixture
def collated(uow: UnitOfWork, session: Session) -> None:
    """The test round with its returns in (still open)."""
    collation_round(uow, session)


@pytest.fixture
def moderating(collated: None, uow: UnitOfWork, session: Session) -> None:
    """The round with its returns closed: in moderation."""
    start_moderation(uow, ROUND)
    session.commit()
    session.close()


def case_index(fields: dict[str, str], reference: str) -> int:
    return next(
        int(m[1])
        for name, value in fields.items()
        if (m := re.fullmatch(r"cases\[(\d+)\]\.reference", name)) and value == reference
    )


def filled(fields: dict[str, str], grades: dict[str, str]) -> dict[str, str]:
    """The form with these cases (reference -> grade) agreed."""
    done = dict(fields)
    for reference, grade in grades.items():
        i = case_index(fields, reference)
        done[f"cases[{i}].agreed_grade"] = grade
        done[f"cases[{i}].key_findings"] = f"The agencies agreed on {reference}."
        done[f"cases[{i}].summary"] = "A child of primary school age living with a parent."
    return done


def decided(fields: dict[str, str], forward: str = "yes") -> dict[str, str]:
    return {k: (forward if k.endswith(".forward") else v) for k, v in fields.items()}


def round_status(session: Session) -> str:
    session.expire_all()
    found = session.get(AuditRound, ROUND)
    assert found is not None
    status = str(found.status)
    session.rollback()
    return status


def moderated(session: Session) -> list[CaseModeration]:
    session.expire_all()
    return list(session.scalars(select(CaseModeration)))


# --- reading ---------------------------------------------------------------------------------


def test_the_page_shows_each_case_with_the_agencies_grades_and_each_finding(
    moderating: None, make_app: Callable[..., App]
) -> None:
    page = portal(make_app()).get(PATH)
    assert page.status_code == 200
    assert "<h1>Round 2026-H1: audit day</h1>" in page.text
    for reference in EVERY_CASE:
        assert f"Case {reference}" in page.text
    assert "<caption>What each agency's auditor graded</caption>" in page.text
    assert '<th scope="col">Metropolitan Police (Central East BCU)</th>' in page.text
    assert "Requires improvement" in page.text and "Outstanding" in page.text
    assert "Not received: City of London Police (declined)" in page.text
    assert 'name="cases[0].agreed_grade"' in page.text
    assert "It must not identify the child" in page.text
    assert "a shared chronology" in page.text and "same-day referral" in page.text
    assert "The child&#39;s own words were not recorded." in page.text
    assert '<legend class="label">Goes forward to the briefing</legend>' in page.text
    fields = form_of(page, FORM)
    assert fields["strengths[0].forward"] == "" and fields["lessons[1].forward"] == ""
    assert "Still needed before the round moves to briefing" in page.text
    assert 'href="#cases-0-agreed-grade"' in page.text


def test_the_round_page_links_the_audit_day_once_the_returns_are_closed(
    collated: None, make_app: Callable[..., App], uow: UnitOfWork, session: Session
) -> None:
    browser = portal(make_app())
    assert "/audit-day" not in browser.get(f"/dashboard/rounds/{ROUND}").text
    start_moderation(uow, ROUND)
    session.commit()
    assert f'<a href="{PATH}">The audit day</a>' in browser.get(f"/dashboard/rounds/{ROUND}").text


def test_an_open_round_has_no_audit_day_yet_and_a_wrong_round_is_not_found(
    collated: None, make_app: Callable[..., App]
) -> None:
    browser = portal(make_app())
    page = browser.get(PATH)
    assert page.status_code == 200
    assert "Round 2026-H1 is open: its audit day can be recorded only once" in page.text
    assert '<form method="post" action="/dashboard/rounds' not in page.text
    refused = browser.post(PATH, data={"csrf_token": "tok", "cases[0].reference": "HK-00123"})
    assert refused.status_code == 409 and "is open" in refused.text
    assert browser.get("/dashboard/rounds/2031-H2/audit-day").status_code == 404
    assert browser.get("/dashboard/rounds/nonsense/audit-day").status_code == 404


# --- who may record ------------------------------------------------------------------------------


def test_a_qa_member_reads_the_record_without_the_form_and_cannot_record(
    moderating: None, make_app: Callable[..., App], session: Session
) -> None:
    coordinator_page = portal(make_app()).get(PATH)
    fields = decided(filled(form_of(coordinator_page, FORM), EVERY_CASE))
    browser = portal(make_app(), QUINN)
    page = browser.get(PATH)
    assert page.status_code == 200
    assert "a coordinator records the audit day" in page.text
    assert 'id="audit-day"' not in page.text and "<select" not in page.text
    assert "a shared chronology" in page.text and "Not agreed yet" in page.text
    assert browser.post(PATH, data=fields).status_code == 403
    assert moderated(session) == [] and round_status(session) == "moderation"


def test_a_post_without_the_session_s_csrf_token_is_refused(
    moderating: None, make_app: Callable[..., App], session: Session
) -> None:
    browser = portal(make_app())
    fields = decided(filled(form_of(browser.get(PATH), FORM), EVERY_CASE))
    assert fields["csrf_token"] == "tok"
    assert browser.post(PATH, data={**fields, "csrf_token": "forged"}).status_code == 403
    del fields["csrf_token"]
    assert browser.post(PATH, data=fields).status_code == 403
    assert moderated(session) == [] and round_status(session) == "moderation"


# --- recording ------------------------------------------------------------------------------------


def test_recording_the_whole_sheet_from_the_form_moves_the_round_to_briefing(
    moderating: None, make_app: Callable[..., App], session: Session
) -> None:
    browser = portal(make_app())
    fields = filled(form_of(browser.get(PATH), FORM), EVERY_CASE)
    fields = decided(fields, "yes")
    fields["lessons[0].forward"] = "no"
    answer = browser.post(PATH, data=fields)
    assert answer.status_code == 200
    assert "The audit day's record is saved." in answer.text
    assert "3 of 3 cases have an agreed grade" in answer.text
    assert "3 go forward to the briefing, 1 is kept in the round's record only" in answer.text
    assert "round 2026-H1 has moved to briefing" in answer.text
    assert "Still needed" not in answer.text
    assert round_status(session) == "briefing"
    grades = {m.round_case.case.reference: m.agreed_grade for m in moderated(session)}
    assert grades == EVERY_CASE
    findings = list(session.scalars(select(Finding).order_by(Finding.position)))
    assert [f.forward for f in findings] == [True, True, False, True]
    assert {f.key_phrase for f in findings if f.kind == "strength"} == {
        "a shared chronology",
        "same-day referral",
    }
    recorded = [e for e in events(session) if e.action == "audit_day_recorded"]
    assert len(recorded) == 1 and recorded[0].actor == "portal:cora"
    assert [e.actor for e in events(session) if e.action == "round_moved_to_briefing"] == [
        "portal:cora"
    ]
    shown = form_of(answer, FORM)  # the page shows what is recorded now
    assert shown[f"cases[{case_index(shown, 'HK-00123')}].agreed_grade"] == "requires-improvement"
    assert shown["lessons[0].forward"] == "no" and shown["strengths[0].forward"] == "yes"
    again = browser.post(PATH, data=fields)
    assert "Nothing changed:" in again.text


def test_a_partial_record_is_kept_and_the_page_says_what_is_still_missing(
    moderating: None, make_app: Callable[..., App], session: Session
) -> None:
    browser = portal(make_app())
    fields = filled(form_of(browser.get(PATH), FORM), {"HK-00123": "good"})
    answer = browser.post(PATH, data=fields)
    assert answer.status_code == 200
    assert "1 of 3 cases have an agreed grade" in answer.text
    assert "Still needed before the round moves to briefing" in answer.text
    first = case_index(fields, "CT-00042")
    assert f'href="#cases-{first}-agreed-grade">Case CT-00042 (city) has no agreed grade.' in (
        answer.text
    )
    assert 'href="#strengths-0-forward"' in answer.text
    assert f'id="cases-{first}-agreed-grade"' in answer.text
    assert round_status(session) == "moderation"
    assert [m.agreed_grade for m in moderated(session)] == ["good"]


def test_problems_are_shown_next_to_their_fields_and_nothing_typed_is_lost(
    moderating: None, make_app: Callable[..., App], session: Session
) -> None:
    browser = portal(make_app())
    fields = decided(filled(form_of(browser.get(PATH), FORM), EVERY_CASE))
    i = case_index(fields, "HK-00456")
    fields[f"cases[{i}].summary"] = "The child, born 12/03/2019, lives with her mother."
    fields[f"cases[{i}].key_findings"] = "Kept as typed."
    fields["strengths[1].key_phrase"] = ""
    answer = browser.post(PATH, data=fields)
    assert answer.status_code == 422
    assert "There is a problem" in answer.text
    assert f'<a href="#cases-{i}-summary">Case HK-00456, summary: this looks like it holds' in (
        answer.text
    )
    assert '<a href="#strengths-1-key-phrase">Strength 2, key phrase: a strength going' in (
        answer.text
    )
    beside = re.search(rf'id="cases-{i}-summary-error">Error: (.*?)</span>', answer.text)
    assert beside and "could identify a child" in beside.group(1)
    assert f'aria-describedby="cases-{i}-summary-hint cases-{i}-summary-error"' in answer.text
    kept = form_of(answer, FORM)
    assert kept[f"cases[{i}].key_findings"] == "Kept as typed."
    assert kept[f"cases[{i}].summary"] == "The child, born 12/03/2019, lives with her mother."
    assert kept["strengths[0].forward"] == "yes"
    assert "<caption>What each agency's auditor graded</caption>" in answer.text
    assert moderated(session) == [] and round_status(session) == "moderation"


def test_a_script_typed_into_the_record_stays_text(
    moderating: None, make_app: Callable[..., App], session: Session
) -> None:
    browser = portal(make_app())
    fields = filled(form_of(browser.get(PATH), FORM), {"HK-00123": "good"})
    i = case_index(fields, "HK-00123")
    fields[f"cases[{i}].key_findings"] = SCRIPT
    fields["lessons[0].text"] = f"Record the child's words. {SCRIPT}"
    answer = browser.post(PATH, data=fields)
    assert answer.status_code == 200
    for page in (answer, browser.get(PATH), portal(make_app(), QUINN).get(PATH)):
        assert "<script>" not in page.text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert [m.key_findings for m in moderated(session)] == [SCRIPT]
