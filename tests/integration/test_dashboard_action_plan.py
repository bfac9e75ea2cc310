"""The action plan on the dashboard: the lessons to act on, adding an action from one (its
owner emailed their link), updating, closing and dropping it, the plan's filters and its
export, and who may change what.

The round is at its briefing (tests/support/briefing_rounds.py): its lessons going forward
are the voice of the child (HK-00123), engaging fathers (HK-00456, both Hackney) and Think
Family (CT-00042, the City of London). Cora is a coordinator, Quinn of the QA subgroup
reads only. Today is Monday 2 March 2026.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support import LONDON
from support.briefing_rounds import briefing_round
from support.dashboard_client import CORA, QUINN, form_of, portal
from support.trail import events

from audit_core.adapters.settings import SmtpSettings
from audit_core.bootstrap import App
from audit_core.domain.briefing_scope import rounds_scope
from audit_core.domain.models import Action, OutboxMessage
from audit_core.services import actions, briefings
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

SCRIPT = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
AMARA = "amara-bello"  # of Hackney Children and Families Service, in people.yaml


@pytest.fixture
def lessons(uow: UnitOfWork, session: Session) -> dict[str, int]:
    """The round at its briefing; its lessons going forward, by theme."""
    briefing_round(uow)
    found = {lesson.theme_id: lesson.id for lesson in actions.lessons_to_act_on(uow)}
    session.commit()
    session.close()
    return found


def add(
    uow: UnitOfWork,
    lesson_id: int,
    text: str,
    *,
    measure: str = "An audit of 20 records shows it.",
    owner: str | tuple[str, str, str] = AMARA,
    due_on: dt.date | None = None,
) -> int:
    """An action made directly through the use case (no email); its number. Committed."""
    made = actions.add(
        uow, lesson_id=lesson_id, text=text, measure=measure, owner=owner, due_on=due_on
    )
    uow.session.commit()
    return made.id


def stored(session: Session) -> list[Action]:
    session.expire_all()
    found = list(session.scalars(select(Action).order_by(Action.id)))
    for action in found:
        _ = action.updates
    session.rollback()
    return found


# --- the lessons, and a new action from one ---------------------------------------------------


def test_the_lessons_page_lists_each_lesson_going_forward_with_its_actions(
    lessons: dict[str, int], uow: UnitOfWork, make_app: Callable[..., App]
) -> None:
    add(uow, lessons["voice-of-the-child"], "Add the child's words to the assessment form.")
    page = portal(make_app()).get("/dashboard/lessons")
    assert page.status_code == 200
    assert "<h1>Lessons to act on</h1>" in page.text
    assert "The children&#39;s own words were not recorded." in page.text
    assert "The father was not invited to the meetings." in page.text
    assert "Add the child&#39;s words to the assessment form." in page.text
    assert f'href="/dashboard/actions/new?lesson={lessons["engaging-fathers"]}"' in page.text
    assert page.text.count("No action yet.") == 2
    city = portal(make_app()).get("/dashboard/lessons?area=city")
    assert "The mother&#39;s own needs were not assessed." in city.text
    assert "The father was not invited" not in city.text
    wrong = portal(make_app()).get("/dashboard/lessons?area=nowhere&round=1999-H1")
    assert wrong.status_code == 400
    assert '<a href="#filter-area">There is no area &#39;nowhere&#39;' in wrong.text
    assert 'id="filter-round-error">Error: No lesson of a round &#39;1999-H1&#39;' in wrong.text
    read_only = portal(make_app(), QUINN).get("/dashboard/lessons")
    assert read_only.status_code == 200 and "/dashboard/actions/new" not in read_only.text


def test_a_briefing_s_page_leads_to_its_area_s_lessons(
    lessons: dict[str, int], uow: UnitOfWork, make_app: Callable[..., App]
) -> None:
    briefings.draft(uow, "city", rounds_scope(["2026-H1"]))
    uow.session.commit()
    browser = portal(make_app(), QUINN)
    page = browser.get("/dashboard/briefings/city/2026-H1")
    assert '<a href="/dashboard/lessons?area=city">Act on the lessons</a>' in page.text
    lessons_page = browser.get("/dashboard/lessons?area=city")
    assert '<option value="city" selected>City of London</option>' in lessons_page.text
    assert "The mother&#39;s own needs were not assessed." in lessons_page.text


def test_a_coordinator_adds_an_action_and_its_owner_is_emailed_their_link(
    lessons: dict[str, int],
    make_app: Callable[..., App],
    mail_settings: SmtpSettings,
    session: Session,
) -> None:
    browser = portal(make_app(mail_settings))
    lesson = lessons["voice-of-the-child"]
    form = browser.get(f"/dashboard/actions/new?lesson={lesson}")
    assert form.status_code == 200
    assert "The children&#39;s own words were not recorded." in form.text
    fields = form_of(form, "new-action")
    assert 'id="due-on" name="due_on" value="2026-09-02"' in form.text  # six months on
    assert '<label for="owner">Owner</label>' in form.text
    fields |= {
        "text": "Add a field for the child's own words to the assessment form.",
        "measure": "A dip sample of 20 assessments in July finds the child's words in 18.",
        "owner": AMARA,
    }
    answer = browser.post("/dashboard/actions/new", data=fields)
    assert answer.status_code == 303
    made = stored(session)
    assert len(made) == 1
    action = made[0]
    assert answer.headers["location"] == f"/dashboard/actions/{action.id}?done=added"
    assert action.owner_id == AMARA and action.agency_id == "hackney-csc"
    assert action.due_on == dt.date(2026, 9, 2) and action.created_by == "portal:cora"
    session.expire_all()
    emails = list(
        session.scalars(select(OutboxMessage).where(OutboxMessage.action_id == action.id))
    )
    assert [(m.kind, m.recipients, m.status) for m in emails] == [
        ("action_link", ["amara.bello@example.org"], "sent")
    ]
    session.rollback()
    assert {e.action for e in events(session, "action")} >= {"action_added", "action_link_sent"}
    shown = browser.get(answer.headers["location"])
    assert "The action is added: its owner is emailed a link" in shown.text
    assert "Add a field for the child&#39;s own words" in shown.text
    assert "Last sent" in shown.text


def test_an_owner_not_listed_is_typed_and_problems_are_shown_by_their_fields(
    lessons: dict[str, int],
    make_app: Callable[..., App],
    mail_settings: SmtpSettings,
    session: Session,
) -> None:
    browser = portal(make_app(mail_settings))
    lesson = lessons["think-family"]
    fields = form_of(browser.get(f"/dashboard/actions/new?lesson={lesson}"), "new-action")
    fields |= {
        "text": "Adult services ask about the children at every assessment.",
        "measure": "",
        "owner_name": "Priya Shah",
        "owner_email": "not an address",
        "owner_agency": "city-cft",
        "due_on": "2026-03-01",
    }
    refused = browser.post("/dashboard/actions/new", data=fields)
    assert refused.status_code == 422
    assert "There is problem" not in refused.text and "There is a problem" in refused.text
    assert '<a href="#measure">Measure of success: how will success be measured?' in refused.text
    assert '<a href="#owner-email">Owner&#39;s email address: is not an email address' in (
        refused.text
    )
    assert '<a href="#due-on">Due date: 2026-03-01 is before today' in refused.text
    assert 'id="owner-email-error">Error: Is not an email address' in refused.text
    kept = form_of(refused, "new-action")
    assert kept["text"] == fields["text"] and kept["owner_name"] == "Priya Shah"
    assert stored(session) == []

    fields |= {"measure": "Ten records audited.", "owner_email": "priya.shah@example.org"}
    fields["due_on"] = "2026-07-01"
    assert browser.post("/dashboard/actions/new", data=fields).status_code == 303
    (action,) = stored(session)
    assert (action.owner_id, action.owner_name, action.agency_id) == (
        None,
        "Priya Shah",
        "city-cft",
    )
    assert action.area_id == "city" and action.due_on == dt.date(2026, 7, 1)


def test_a_lesson_that_is_not_there_to_act_on_is_not_found(
    lessons: dict[str, int], make_app: Callable[..., App]
) -> None:
    browser = portal(make_app())
    assert browser.get("/dashboard/actions/new?lesson=9999").status_code == 404
    assert browser.get("/dashboard/actions/new?lesson=x").status_code == 404
    assert browser.get("/dashboard/actions/9999").status_code == 404
    assert browser.get("/dashboard/actions/nonsense").status_code == 404


# --- updating and closing -------------------------------------------------------------------


def test_a_coordinator_updates_an_action_and_closes_it_as_done(
    lessons: dict[str, int], uow: UnitOfWork, make_app: Callable[..., App], session: Session
) -> None:
    number = add(uow, lessons["engaging-fathers"], "Invite fathers to every meeting.")
    browser = portal(make_app())
    page = browser.get(f"/dashboard/actions/{number}")
    fields = form_of(page, "update") | {
        "note": "The invitation letter now names both parents.",
        "status": "in_progress",
        "evidence": "https://example.org/letter",
        "due_on": "2026-10-01",
    }
    answer = browser.post(f"/dashboard/actions/{number}/update", data=fields)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/dashboard/actions/{number}?done=updated"
    shown = browser.get(answer.headers["location"])
    assert "The update is kept." in shown.text
    assert "The invitation letter now names both parents." in shown.text
    assert '<a class="answer" href="https://example.org/letter"' in shown.text
    assert "Thursday 1 October 2026" in shown.text

    closing = form_of(shown, "close") | {"outcome": "done", "note": "Every meeting invites both."}
    done = browser.post(f"/dashboard/actions/{number}/close", data=closing)
    assert done.headers["location"] == f"/dashboard/actions/{number}?done=done"
    (action,) = stored(session)
    assert action.status == "done" and action.closed_at is not None
    assert [(u.status, u.by) for u in action.updates] == [
        ("in_progress", "portal:cora"),
        ("done", "portal:cora"),
    ]
    assert action.due_on == dt.date(2026, 10, 1)
    after = browser.get(done.headers["location"])
    assert 'id="close"' not in after.text and 'id="resend"' not in after.text
    assert 'id="update"' in after.text  # a done action may go back to in progress
    assert [e.actor for e in events(session, "action") if e.action == "action_closed"] == [
        "portal:cora"
    ]


def test_an_action_is_dropped_only_with_its_reason(
    lessons: dict[str, int], uow: UnitOfWork, make_app: Callable[..., App], session: Session
) -> None:
    number = add(uow, lessons["think-family"], "Run a Think Family workshop.")
    browser = portal(make_app())
    fields = form_of(browser.get(f"/dashboard/actions/{number}"), "close") | {"outcome": "dropped"}
    refused = browser.post(f"/dashboard/actions/{number}/close", data=fields)
    assert refused.status_code == 422
    assert '<a href="#close-reason">Close, why it is dropped: Give the reason' in refused.text
    assert stored(session)[0].status == "open"
    nothing = browser.post(f"/dashboard/actions/{number}/close", data={"csrf_token": "tok"})
    assert nothing.status_code == 422 and "Choose how the action ends" in nothing.text

    fields["reason"] = "The workshop is now part of the board's training plan."
    dropped = browser.post(f"/dashboard/actions/{number}/close", data=fields)
    assert dropped.headers["location"] == f"/dashboard/actions/{number}?done=dropped"
    (action,) = stored(session)
    assert action.status == "dropped" and action.status_reason == fields["reason"]
    shown = browser.get(dropped.headers["location"])
    assert "This action was dropped: it no longer changes." in shown.text
    assert 'id="update"' not in shown.text
    plan = browser.get("/dashboard/actions")
    assert "(dropped: no rating)" in plan.text


def test_an_update_the_action_cannot_take_is_shown_and_nothing_is_written(
    lessons: dict[str, int], uow: UnitOfWork, make_app: Callable[..., App], session: Session
) -> None:
    number = add(uow, lessons["think-family"], "Run a Think Family workshop.")
    browser = portal(make_app())
    fields = form_of(browser.get(f"/dashboard/actions/{number}"), "update")
    fields |= {"note": "", "evidence": "Shared with the team.", "due_on": "2026-08-31"}
    refused = browser.post(f"/dashboard/actions/{number}/update", data=fields)
    assert refused.status_code == 422
    assert '<a href="#update-note">Update, what has been done: the note' in refused.text
    assert "2026-08-31 is a bank holiday (Late Summer Bank Holiday): choose a working day" in (
        refused.text
    )
    assert form_of(refused, "update")["evidence"] == "Shared with the team."
    bad_date = browser.post(
        f"/dashboard/actions/{number}/update", data={**fields, "note": "x", "due_on": "soon"}
    )
    assert bad_date.status_code == 422 and "for example 2026-09-30" in bad_date.text
    assert stored(session)[0].updates == []


def test_a_new_link_is_sent_to_the_owner(
    lessons: dict[str, int],
    uow: UnitOfWork,
    make_app: Callable[..., App],
    mail_settings: SmtpSettings,
    session: Session,
) -> None:
    number = add(uow, lessons["think-family"], "Run a Think Family workshop.")
    browser = portal(make_app(mail_settings))
    answer = browser.post(f"/dashboard/actions/{number}/resend", data={"csrf_token": "tok"})
    assert answer.headers["location"] == f"/dashboard/actions/{number}?done=resent"
    session.expire_all()
    sent = list(session.scalars(select(OutboxMessage).where(OutboxMessage.action_id == number)))
    assert [m.kind for m in sent] == ["action_link"]
    session.rollback()
    assert stored(session)[0].link_number == 1


# --- who may change what ----------------------------------------------------------------------


def test_a_qa_member_reads_the_plan_and_an_action_but_changes_nothing(
    lessons: dict[str, int], uow: UnitOfWork, make_app: Callable[..., App], session: Session
) -> None:
    number = add(uow, lessons["think-family"], "Run a Think Family workshop.")
    browser = portal(make_app(), QUINN)
    plan = browser.get("/dashboard/actions")
    assert plan.status_code == 200 and "Run a Think Family workshop." in plan.text
    page = browser.get(f"/dashboard/actions/{number}")
    assert page.status_code == 200
    assert "a coordinator updates and closes actions" in page.text
    assert "<form" not in page.text.replace('<form method="post" action="/sign-out"', "")
    lesson = lessons["think-family"]
    assert browser.get(f"/dashboard/actions/new?lesson={lesson}").status_code == 403
    posts = {
        "/dashboard/actions/new": {"lesson": str(lesson), "text": "x", "owner": AMARA},
        f"/dashboard/actions/{number}/update": {"note": "x"},
        f"/dashboard/actions/{number}/close": {"outcome": "done"},
        f"/dashboard/actions/{number}/resend": {},
    }
    for path, data in posts.items():
        assert browser.post(path, data={**data, "csrf_token": "tok"}).status_code == 403, path
    (action,) = stored(session)
    assert action.status == "open" and action.updates == [] and action.link_number == 0


def test_a_post_without_the_session_s_csrf_token_is_refused(
    lessons: dict[str, int], uow: UnitOfWork, make_app: Callable[..., App], session: Session
) -> None:
    number = add(uow, lessons["think-family"], "Run a Think Family workshop.")
    browser = portal(make_app())
    lesson = lessons["voice-of-the-child"]
    new = form_of(browser.get(f"/dashboard/actions/new?lesson={lesson}"), "new-action")
    new |= {"text": "x", "measure": "y", "owner": AMARA, "csrf_token": "forged"}
    assert browser.post("/dashboard/actions/new", data=new).status_code == 403
    update = {"note": "Progress.", "status": "in_progress"}
    assert browser.post(f"/dashboard/actions/{number}/update", data=update).status_code == 403
    close = {"outcome": "done", "csrf_token": "forged"}
    assert browser.post(f"/dashboard/actions/{number}/close", data=close).status_code == 403
    assert browser.post(f"/dashboard/actions/{number}/resend", data={}).status_code == 403
    (action,) = stored(session)
    assert action.status == "open" and action.updates == [] and action.link_number == 0


# --- the plan, its filters and its export -----------------------------------------------------


@pytest.fixture
def plan(lessons: dict[str, int], make_uow: Callable[..., UnitOfWork]) -> dict[str, int]:
    """Three actions: one of Hackney CSC due on 20 March (soon, not started: amber), one of
    the City's team due in September, one of Hackney CSC done."""
    uow = make_uow()
    made = {
        "april": add(
            uow,
            lessons["voice-of-the-child"],
            "Record the child's words at every visit.",
            due_on=dt.date(2026, 3, 20),
        ),
        "city": add(
            uow,
            lessons["think-family"],
            '=HYPERLINK("http://x") Think Family training for adult services.',
            owner=("Priya Shah", "priya.shah@example.org", "city-cft"),
        ),
        "done": add(uow, lessons["engaging-fathers"], "Invite fathers to every meeting."),
    }
    actions.close(uow, made["done"], done=True, note="Both parents are invited.")
    uow.session.commit()
    return made


def rows_of(page_text: str) -> list[str]:
    return [
        line
        for line in page_text.splitlines()
        if '<th scope="row"><a href="/dashboard/actions/' in line
    ]


def test_the_plan_shows_each_action_with_its_rag_in_words_and_colour(
    plan: dict[str, int], make_app: Callable[..., App]
) -> None:
    page = portal(make_app()).get("/dashboard/actions")
    assert page.status_code == 200
    assert "3 actions" in page.text
    assert '<span class="tag rag-amber">Amber</span>' in page.text  # due within 20 working days
    assert '<span class="tag rag-green">Green</span>' in page.text
    assert '<span class="tag status-done">done</span>' in page.text
    assert "Priya Shah" in page.text and "City of London Children and Families Team" in page.text
    assert "Fri 20 Mar 2026" in page.text
    assert '<a href="/dashboard/actions">Actions</a>' in page.text  # the masthead
    april = next(line for line in rows_of(page.text) if "child&#39;s words" in line)
    assert april.startswith(f'      <th scope="row"><a href="/dashboard/actions/{plan["april"]}">')


def test_the_plan_filters_by_agency_status_round_area_and_overdue(
    plan: dict[str, int], make_app: Callable[..., App]
) -> None:
    browser = portal(make_app())
    for query, wanted in (
        ("agency=hackney-csc", {"april", "done"}),
        ("status=done", {"done"}),
        ("round=2026-H1", {"april", "city", "done"}),
        ("area=city", {"city"}),
        ("agency=hackney-csc&status=open", {"april"}),
    ):
        page = browser.get(f"/dashboard/actions?{query}")
        assert page.status_code == 200, query
        shown = {
            name for name, number in plan.items() if f'/dashboard/actions/{number}"' in page.text
        }
        assert shown == wanted, query
        # the download links carry the same filters
        assert f"/dashboard/action-plan.csv?{query.replace('&', '&amp;')}" in page.text
    assert (
        'value="hackney-csc" selected' in browser.get("/dashboard/actions?agency=hackney-csc").text
    )
    later = portal(make_app(at=dt.datetime(2026, 3, 23, 9, 0, tzinfo=LONDON)))
    overdue = later.get("/dashboard/actions?overdue=yes")
    shown = {
        name for name, number in plan.items() if f'/dashboard/actions/{number}"' in overdue.text
    }
    assert shown == {"april"}
    assert '<span class="tag rag-red">Red</span>' in overdue.text and "(overdue)" in overdue.text
    assert 'id="filter-overdue" name="overdue" value="yes" checked' in overdue.text
    wrong = browser.get("/dashboard/actions?agency=nowhere&status=lost")
    assert wrong.status_code == 400
    assert '<a href="#filter-agency">There is no agency &#39;nowhere&#39;' in wrong.text
    assert 'id="filter-status-error">Error: There is no status &#39;lost&#39;' in wrong.text
    assert "3 actions" in wrong.text  # the plan, without the filters it cannot take
    empty = browser.get("/dashboard/actions?area=hackney&status=dropped")
    assert "No action matches these filters." in empty.text


def test_the_export_holds_the_plan_as_text_and_is_recorded(
    plan: dict[str, int], make_app: Callable[..., App], session: Session
) -> None:
    browser = portal(make_app(), QUINN)
    answer = browser.get("/dashboard/action-plan.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="action-plan.csv"' in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["Id", "Round", "Area", "Theme", "Action"]
    assert [r[0] for r in rows[1:]] == [str(plan["april"]), str(plan["city"]), str(plan["done"])]
    city = rows[2]
    assert city[4].startswith("'=HYPERLINK(")  # shown as typed, never run
    assert "Priya Shah <priya.shah@example.org>" in city
    assert rows[3][9] == "done"
    only = browser.get("/dashboard/action-plan.csv?agency=hackney-csc&status=open")
    kept = list(csv.reader(io.StringIO(only.content.decode("utf-8-sig"))))
    assert [r[0] for r in kept[1:]] == [str(plan["april"])]
    city_only = browser.get("/dashboard/action-plan.csv?area=city")
    kept = list(csv.reader(io.StringIO(city_only.content.decode("utf-8-sig"))))
    assert [r[0] for r in kept[1:]] == [str(plan["city"])]
    book = browser.get("/dashboard/action-plan.xlsx?agency=city-cft")
    assert book.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Id" and len(values) == 2
    assert values[1][4].startswith("'=HYPERLINK(")
    exported = [e for e in events(session) if e.action == "action_plan_exported"]
    assert [e.actor for e in exported] == ["portal:quinn"] * 4


def test_a_script_typed_into_an_action_stays_text(
    lessons: dict[str, int], uow: UnitOfWork, make_app: Callable[..., App]
) -> None:
    number = add(uow, lessons["think-family"], SCRIPT, measure=SCRIPT)
    actions.update(uow, number, note=SCRIPT, evidence=SCRIPT)
    uow.session.commit()
    for user in (CORA, QUINN):
        browser = portal(make_app(), user)
        for path in (f"/dashboard/actions/{number}", "/dashboard/actions", "/dashboard/lessons"):
            page = browser.get(path)
            assert "<script>" not in page.text, path
            assert ESCAPED in page.text, path
