"""The learning briefings on the dashboard: the list, the editor making new versions, and
approval under the second-approver rule.

The round is the collation test round (tests/support/collation.py), its audit day
recorded complete (every finding forward), so that it is at its briefing; Alice of the
business unit then drafts the Hackney briefing of 2026-H1 (version 1) from the command
line. Cora edits and approves on the dashboard; Dana is a second coordinator.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.collation import collation_round
from support.dashboard_client import CORA, QUINN, form_of, portal
from support.trail import events

from audit_core.bootstrap import App
from audit_core.domain.briefing_scope import rounds_scope
from audit_core.domain.models import Briefing
from audit_core.portal.auth import SignedIn
from audit_core.services import briefings
from audit_core.services.moderation import record_audit_day, start_sheet
from audit_core.services.round_lock import start_moderation
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

ROUND = "2026-H1"
FORM = "briefing"  # the id of the page's form
PATH = f"/dashboard/briefings/hackney/{ROUND}"
SCRIPT = '<script>alert("x")</script>'
DANA = SignedIn("dana", "Dana Coordinator", "coordinator", "tok")
GRADES = {"CT-00042": "good", "HK-00123": "requires-improvement", "HK-00456": "good"}


@pytest.fixture
def drafted(uow: UnitOfWork, session: Session) -> None:
    """The round at its briefing, and version 1 of the Hackney briefing drafted by Alice."""
    collation_round(uow, session)
    start_moderation(uow, ROUND)
    sheet = start_sheet(uow, ROUND)
    cases = tuple(
        dataclasses.replace(
            c,
            agreed_grade=GRADES[c.reference],
            key_findings="Agreed on the day.",
            summary=f"A family known to three agencies ({c.reference[:2]}).",
        )
        for c in sheet.cases
    )
    findings = tuple(dataclasses.replace(f, forward=True) for f in sheet.findings)
    record_audit_day(uow, ROUND, dataclasses.replace(sheet, cases=cases, findings=findings))
    uow.actor = "cli:alice"
    briefings.draft(uow, "hackney", rounds_scope([ROUND]))
    session.commit()
    session.close()


def versions(session: Session) -> list[Briefing]:
    session.expire_all()
    found = list(session.scalars(select(Briefing).order_by(Briefing.version)))
    session.rollback()
    return found


# --- reading ---------------------------------------------------------------------------------


def test_the_list_shows_each_briefing_with_its_versions_and_status(
    drafted: None, make_app: Callable[..., App]
) -> None:
    for user in (CORA, QUINN):
        page = portal(make_app(), user).get("/dashboard/briefings")
        assert page.status_code == 200
        assert f'<a href="{PATH}">Hackney, 2026-H1</a>' in page.text
        assert '<td>1: <span class="tag draft">draft</span></td>' in page.text
    home = portal(make_app()).get("/dashboard")
    assert '<a href="/dashboard/briefings">Briefings</a>' in home.text


def test_the_editor_shows_the_latest_version_s_content_as_a_form(
    drafted: None, make_app: Callable[..., App]
) -> None:
    page = portal(make_app()).get(PATH)
    assert page.status_code == 200
    assert "<h1>Briefing: Hackney, 2026-H1</h1>" in page.text
    fields = form_of(page, FORM)
    assert fields["version"] == "1" and fields["note"] == ""
    assert fields["rounds[0].cases[0].summary"] == "A family known to three agencies (HK)."
    assert '<label for="rounds-0-cases-0-summary">Case 1</label>' in page.text
    strengths = [v for k, v in fields.items() if k.endswith(".key_phrase")]
    assert "a shared chronology" in strengths
    lesson = next(k for k, v in fields.items() if v == "Voice of the child" and "lessons" in k)
    assert fields[lesson.replace(".heading", ".prompts")]  # the theme's practice prompt
    assert any(k.endswith(".links[0].url") and v.startswith("http") for k, v in fields.items())
    assert "Approve version 1" in page.text
    assert "Every version, the latest first" in page.text


def test_a_wrong_area_or_scope_is_not_found(drafted: None, make_app: Callable[..., App]) -> None:
    browser = portal(make_app())
    assert browser.get("/dashboard/briefings/city/2026-H1").status_code == 404  # none drafted
    assert browser.get("/dashboard/briefings/nowhere/2026-H1").status_code == 404
    assert browser.get("/dashboard/briefings/hackney/nonsense").status_code == 404


# --- editing -------------------------------------------------------------------------------------


def test_editing_the_briefing_saves_a_new_draft_version(
    drafted: None, make_app: Callable[..., App], session: Session
) -> None:
    browser = portal(make_app())
    fields = form_of(browser.get(PATH), FORM)
    lesson = next(k for k in fields if k.endswith(".prompts")).removesuffix(".prompts")
    fields["introduction"] = "What our audits found this spring."
    fields[f"{lesson}.prompts"] = "Do you record the child's own words?\n\n  Do you ask twice?  "
    new_link = next(
        k for k in fields if k.startswith(lesson) and k.endswith(".title") and not fields[k]
    )
    fields[new_link] = "Recording the voice of the child"
    fields[new_link.replace(".title", ".url")] = "https://example.org/voice"
    fields["note"] = "A warmer introduction; a second prompt."
    answer = browser.post(PATH, data=fields)
    assert answer.status_code == 303 and answer.headers["location"] == PATH + "?done=saved"
    shown = browser.get(answer.headers["location"])
    assert "The changes are saved as a new draft version." in shown.text
    found = versions(session)
    assert [(v.version, v.status) for v in found] == [(1, "draft"), (2, "draft")]
    latest = found[-1]
    assert latest.created_by == "portal:cora" and latest.note == fields["note"]
    assert latest.content["introduction"] == "What our audits found this spring."
    lessons = latest.content["rounds"][0]["lessons"]
    prompts = [lesson["prompts"] for lesson in lessons]
    assert ["Do you record the child's own words?", "Do you ask twice?"] in prompts
    assert {"title": "Recording the voice of the child", "url": "https://example.org/voice"} in [
        link for lesson in lessons for link in lesson["links"]
    ]
    assert found[0].content != latest.content  # version 1 is kept as it was
    edited = [e for e in events(session) if e.action == "briefing_edited"]
    assert len(edited) == 1 and edited[0].actor == "portal:cora"
    again = browser.post(PATH, data={**form_of(shown, FORM), "note": "nothing new"})
    assert again.headers["location"] == PATH + "?done=unchanged"
    assert len(versions(session)) == 2


def test_problems_are_shown_next_to_their_fields_and_nothing_is_saved(
    drafted: None, make_app: Callable[..., App], session: Session
) -> None:
    browser = portal(make_app())
    fields = form_of(browser.get(PATH), FORM)
    fields["rounds[0].cases[0].summary"] = "Lives at E8 1DY with her mother."
    link = next(k for k in fields if k.endswith(".links[0].url"))
    fields[link] = "javascript:alert(1)"
    fields["introduction"] = "Kept as typed."
    answer = browser.post(PATH, data=fields)
    assert answer.status_code == 422
    assert "There is a problem" in answer.text
    assert (
        '<a href="#rounds-0-cases-0-summary">Case 1, summary: holds what looks like a postcode'
        in (answer.text)
    )
    link_id = link.replace("[", "-").replace("].", "-").replace(".", "-").replace("_", "-")
    assert f'id="{link_id}-error">Error: Expected a web address starting http' in answer.text
    kept = form_of(answer, FORM)
    assert kept["introduction"] == "Kept as typed."
    assert kept[link] == "javascript:alert(1)"
    assert len(versions(session)) == 1


def test_a_script_typed_into_the_briefing_stays_text(
    drafted: None, make_app: Callable[..., App], session: Session
) -> None:
    browser = portal(make_app())
    fields = {**form_of(browser.get(PATH), FORM), "introduction": SCRIPT, "note": SCRIPT}
    assert browser.post(PATH, data=fields).status_code == 303
    assert versions(session)[-1].content["introduction"] == SCRIPT
    for user in (CORA, QUINN):
        page = portal(make_app(), user).get(PATH)
        assert "<script>" not in page.text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text


def test_a_form_opened_before_another_version_was_saved_is_refused(
    drafted: None, make_app: Callable[..., App], session: Session
) -> None:
    browser = portal(make_app())
    fields = form_of(browser.get(PATH), FORM)
    assert browser.post(PATH, data={**fields, "introduction": "First."}).status_code == 303
    stale = browser.post(PATH, data={**fields, "introduction": "Second."})
    assert stale.status_code == 409
    assert "Version 2 was saved since this page was opened: nothing was saved." in stale.text
    assert [v.content["introduction"] for v in versions(session)][-1] == "First."


# --- who may change and approve -------------------------------------------------------------


def test_a_qa_member_reads_the_briefing_and_is_refused_every_change(
    drafted: None, make_app: Callable[..., App], session: Session
) -> None:
    fields = form_of(portal(make_app()).get(PATH), FORM)
    browser = portal(make_app(), QUINN)
    page = browser.get(PATH)
    assert page.status_code == 200
    assert "a coordinator changes and approves briefings" in page.text
    assert 'id="briefing"' not in page.text and "Approve version" not in page.text
    assert "a shared chronology" in page.text
    assert browser.post(PATH, data={**fields, "introduction": "x"}).status_code == 403
    assert (
        browser.post(PATH + "/approve", data={"csrf_token": "tok", "version": "1"}).status_code
        == 403
    )
    assert [(v.version, v.status) for v in versions(session)] == [(1, "draft")]


def test_a_post_without_the_session_s_csrf_token_is_refused(
    drafted: None, make_app: Callable[..., App], session: Session
) -> None:
    browser = portal(make_app())
    fields = form_of(browser.get(PATH), FORM)
    assert browser.post(PATH, data={**fields, "csrf_token": "forged"}).status_code == 403
    assert browser.post(PATH + "/approve", data={"version": "1"}).status_code == 403
    assert [(v.version, v.status) for v in versions(session)] == [(1, "draft")]


def test_whoever_wrote_a_version_cannot_approve_it_and_someone_else_can(
    drafted: None, make_app: Callable[..., App], session: Session
) -> None:
    cora = portal(make_app())
    fields = form_of(cora.get(PATH), FORM)
    assert cora.post(PATH, data={**fields, "introduction": "Cora's words."}).status_code == 303
    refused = cora.post(PATH + "/approve", data={"csrf_token": "tok", "version": "2"})
    assert refused.status_code == 409
    assert "Nothing was changed" in refused.text
    assert "was written by portal:cora: someone else must approve it" in refused.text
    old = portal(make_app(), DANA).post(
        PATH + "/approve", data={"csrf_token": "tok", "version": "1"}
    )
    assert old.status_code == 409 and "Version 1 is not the latest" in old.text
    approved = portal(make_app(), DANA).post(
        PATH + "/approve", data={"csrf_token": "tok", "version": "2"}
    )
    assert approved.status_code == 303 and approved.headers["location"] == PATH + "?done=approved"
    latest = versions(session)[-1]
    assert latest.status == "approved" and latest.approved_by == "portal:dana"
    page = cora.get(approved.headers["location"])
    assert "The latest version is approved." in page.text
    assert "Approve version" not in page.text
    assert [e.actor for e in events(session) if e.action == "briefing_approved"] == ["portal:dana"]
