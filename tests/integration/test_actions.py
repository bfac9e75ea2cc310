"""Actions from the lessons that went forward, over a real database: made with their
defaults, listed, updated, closed or dropped, rated again for a later day, and refused
with every problem named and nothing written.

The round (2026-H1) is at its briefing through the audit day's own service
(:mod:`support.briefing_rounds`): its lessons going forward are voice of the child
(HK-00123, Hackney), engaging fathers (HK-00456, Hackney) and Think Family (CT-00042, the
City of London). The business unit is Alice, on Monday 2 March 2026.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support import LONDON
from support.briefing_rounds import DEFAULT_FINDINGS, briefing_round, lesson, moderating_round
from support.trail import events

from audit_core.adapters.smtp_sink import Sink
from audit_core.bootstrap import App
from audit_core.domain.actions import ActionRejected
from audit_core.domain.errors import InvalidState, NotFound
from audit_core.domain.models import Action, ActionUpdate, Finding, FindingKind
from audit_core.domain.moderation import CaseRef, SheetFinding
from audit_core.services import actions
from audit_core.services.actions import Owner
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database
MakeUow = Callable[..., UnitOfWork]
TEXT = "Every strategy meeting records the child's own words and wishes."
MEASURE = "A dip sample of ten plans in September shows the child's words in eight."


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=10, tzinfo=LONDON)


def lesson_of(session: Session, theme: str, round_id: str = "2026-H1") -> Finding:
    return session.scalars(
        select(Finding).where(
            Finding.round_id == round_id,
            Finding.kind == FindingKind.LESSON,
            Finding.theme_id == theme,
        )
    ).one()


def stored(session: Session, action_id: int) -> Action:
    found = session.get(Action, action_id)
    assert found is not None
    return found


def action_rows(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Action)) or 0


@pytest.fixture
def at_briefing(uow: UnitOfWork) -> None:
    briefing_round(uow)


@pytest.fixture
def voice(at_briefing: None, session: Session) -> Finding:
    return lesson_of(session, "voice-of-the-child")


def add(uow: UnitOfWork, lesson_id: int, **changes: object) -> actions.ActionView:
    given: dict[str, object] = {"text": TEXT, "measure": MEASURE, "owner": "amara-bello"}
    return actions.add(uow, lesson_id=lesson_id, **{**given, **changes})  # type: ignore[arg-type]


# --- lessons and adding ---------------------------------------------------------------------


def test_the_lessons_to_act_on_are_those_that_went_forward(
    at_briefing: None, uow: UnitOfWork
) -> None:
    found = actions.lessons_to_act_on(uow)
    assert [(x.theme_name, x.case_refs, x.areas) for x in found] == [
        ("Voice of the child", ("HK-00123",), ("hackney",)),
        ("Engagement with fathers and significant others", ("HK-00456",), ("hackney",)),
        ("Think Family", ("CT-00042",), ("city",)),
    ]
    assert all(x.round_id == "2026-H1" and x.actions == () for x in found)
    city = actions.lessons_to_act_on(uow, area_id="city")
    assert [x.theme_id for x in city] == ["think-family"]
    assert [x.text for x in actions.lessons_to_act_on(uow, round_id="2026-H1")] == [
        x.text for x in found
    ]
    with pytest.raises(NotFound, match="There is no area 'islington'"):
        actions.lessons_to_act_on(uow, area_id="islington")


def test_a_round_still_in_moderation_has_no_lessons_to_act_on(uow: UnitOfWork) -> None:
    moderating_round(uow)
    assert actions.lessons_to_act_on(uow) == []
    with pytest.raises(InvalidState, match="Round 2026-H1 is moderation: its lessons become"):
        actions.lessons_to_act_on(uow, round_id="2026-H1")


def test_an_action_from_a_lesson_takes_its_round_theme_area_and_the_owner_from_people_yaml(
    voice: Finding, uow: UnitOfWork, session: Session
) -> None:
    added = add(uow, voice.id)
    assert (added.round_id, added.theme_name, added.area_name) == (
        "2026-H1",
        "Voice of the child",
        "Hackney",
    )
    assert (added.owner_id, added.owner_name, added.owner_email) == (
        "amara-bello",
        "Amara Bello",
        "amara.bello@example.org",
    )
    assert added.agency_name == "Hackney Children and Families Service"
    assert added.lesson_text == "The children's own words were not recorded."
    assert added.due_on == dt.date(2026, 9, 2)  # six months on, a Wednesday
    assert (added.status, added.rag, added.updates) == ("open", "green", ())
    assert added.created_by == "alice"
    (event,) = events(session, "action")
    assert (event.action, event.object_id, event.round_id) == (
        "action_added",
        str(added.id),
        "2026-H1",
    )
    assert event.details == {
        "lesson": voice.id,
        "theme": "voice-of-the-child",
        "area": "hackney",
        "agency": "hackney-csc",
        "owner": "amara-bello",
        "due_on": "2026-09-02",
        "rag": "green",
    }
    made = actions.lessons_to_act_on(uow)[0].actions
    assert [a.id for a in made] == [added.id]


def test_an_owner_outside_people_yaml_is_named_with_their_agency_and_a_due_date_kept(
    voice: Finding, uow: UnitOfWork
) -> None:
    owner = Owner("Dr Helen Marsh", "helen.marsh@example.org", "gp")
    added = add(uow, voice.id, owner=owner, due_on=dt.date(2026, 4, 30))
    assert (added.owner_id, added.owner_name, added.agency_id) == (None, "Dr Helen Marsh", "gp")
    assert added.due_on == dt.date(2026, 4, 30)
    assert added.rag == "green"  # 41 working days away
    soon = add(uow, voice.id, owner=owner, due_on=dt.date(2026, 3, 27))
    assert soon.rag == "amber"  # due within 20 working days and not started


def test_a_lesson_from_cases_in_two_areas_takes_the_owners_agencys_area(
    uow: UnitOfWork, session: Session
) -> None:
    both = SheetFinding(
        FindingKind.LESSON,
        "information-sharing",
        "Health and the police did not share the chronology.",
        cases=(CaseRef("HK-00123"), CaseRef("CT-00042")),
        forward=True,
    )
    briefing_round(uow, findings=(*DEFAULT_FINDINGS, both))
    shared = lesson_of(session, "information-sharing")
    assert add(uow, shared.id, owner="eleanor-ashdown").area_id == "city"  # city-cft
    assert add(uow, shared.id, owner="amara-bello").area_id == "hackney"
    assert add(uow, shared.id, owner="kofi-asamoah").area_id == "hackney"  # gp: both, the first


def test_only_a_lesson_that_went_forward_of_a_round_at_its_briefing_becomes_an_action(
    uow: UnitOfWork, session: Session
) -> None:
    kept_back = lesson("silent-child", "No one spoke to the baby.", "HK-00456", forward=False)
    briefing_round(uow, findings=(*DEFAULT_FINDINGS, kept_back))
    back = lesson_of(session, "silent-child")
    with pytest.raises(InvalidState, match=f"Lesson {back.id} did not go forward"):
        add(uow, back.id)
    a_strength = session.scalars(select(Finding).where(Finding.kind == "strength")).first()
    assert a_strength is not None
    with pytest.raises(NotFound, match=rf"There is no lesson {a_strength.id}\."):
        add(uow, a_strength.id)
    with pytest.raises(NotFound, match="There is no lesson 999"):
        add(uow, 999)
    assert action_rows(session) == 0


def test_bad_input_is_refused_whole_and_nothing_is_written(
    voice: Finding, uow: UnitOfWork, session: Session
) -> None:
    with pytest.raises(ActionRejected) as refused:
        add(
            uow,
            voice.id,
            text="  ",
            measure="Seen at E8 1DY by the school.",
            owner=Owner("Dr Helen Marsh", "helen.marsh", "surgery"),
            due_on=dt.date(2026, 2, 27),
        )
    text = str(refused.value)
    assert text.startswith("The action was not saved; nothing was written (5 problems):")
    assert "the action: text: the action's text is missing" in text
    assert "the action: measure: this looks like it holds a postcode" in text
    assert "E8 1DY" not in text
    assert "the action: owner.email: is not an email address" in text
    assert "the action: agency: 'surgery' is not an agency of the configuration" in text
    assert "the action: due_on: 2026-02-27 is before today (2026-03-02)" in text
    assert action_rows(session) == 0
    assert events(session, "action") == []


def test_an_owner_not_in_people_yaml_is_refused_by_id(voice: Finding, uow: UnitOfWork) -> None:
    with pytest.raises(NotFound, match="There is no person 'amara' in the configuration"):
        add(uow, voice.id, owner="amara")


# --- listing -------------------------------------------------------------------------------


@pytest.fixture
def three(at_briefing: None, uow: UnitOfWork, session: Session) -> list[actions.ActionView]:
    """Three actions: Hackney's voice of the child (amara-bello, due 2 September), its
    engaging fathers (met-police, due 30 April) and the City's Think Family (city-cft,
    due 16 March)."""
    fathers = lesson_of(session, "engaging-fathers")
    family = lesson_of(session, "think-family")
    made = [
        add(uow, lesson_of(session, "voice-of-the-child").id),
        add(uow, fathers.id, owner="sarah-chukwuma", due_on=dt.date(2026, 4, 30)),
        add(uow, family.id, owner="eleanor-ashdown", due_on=dt.date(2026, 3, 16)),
    ]
    session.commit()
    return made


def ids(found: list[actions.ActionView]) -> list[int]:
    return [v.id for v in found]


def test_the_list_is_soonest_due_first_and_filters_by_agency_status_round_and_area(
    three: list[actions.ActionView], uow: UnitOfWork
) -> None:
    voice, fathers, family = three
    assert ids(actions.list_actions(uow)) == [family.id, fathers.id, voice.id]
    assert ids(actions.list_actions(uow, agency_id="met-police")) == [fathers.id]
    assert ids(actions.list_actions(uow, area_id="hackney")) == [fathers.id, voice.id]
    assert ids(actions.list_actions(uow, round_id="2026-H1")) == [family.id, fathers.id, voice.id]
    actions.update(uow, voice.id, note="Training booked.", status="in progress")
    assert ids(actions.list_actions(uow, status="in_progress")) == [voice.id]
    assert ids(actions.list_actions(uow, status="open")) == [family.id, fathers.id]
    assert actions.list_actions(uow, overdue=True) == []
    with pytest.raises(NotFound, match="There is no agency 'the-police'"):
        actions.list_actions(uow, agency_id="the-police")
    with pytest.raises(NotFound, match="There is no round 2025-H2"):
        actions.list_actions(uow, round_id="2025-H2")


def test_an_action_past_its_due_date_is_overdue_and_red_until_it_is_closed(
    three: list[actions.ActionView], make_uow: MakeUow
) -> None:
    family = three[2]
    later = make_uow(at=at("2026-03-17"))
    (overdue,) = actions.list_actions(later, overdue=True)
    assert (overdue.id, overdue.rag) == (family.id, "red")
    actions.close(later, family.id, done=True, note="Done at the team meeting.")
    assert actions.list_actions(later, overdue=True) == []
    assert actions.show(later, family.id).rag == "green"


# --- updating and closing ------------------------------------------------------------------


def test_an_update_keeps_its_note_evidence_and_new_status_in_order(
    three: list[actions.ActionView], make_uow: MakeUow, session: Session
) -> None:
    voice = three[0]
    first = actions.update(
        make_uow(at=at("2026-03-09")),
        voice.id,
        note="Training booked for every team.",
        status="in_progress",
        evidence="https://intranet.example.org/training",
    )
    second = actions.update(make_uow(at=at("2026-03-16")), voice.id, note="Half the teams done.")
    assert first.status == second.status == "in_progress"
    assert [(u.note, u.status, u.evidence, u.by) for u in second.updates] == [
        (
            "Training booked for every team.",
            "in_progress",
            "https://intranet.example.org/training",
            "alice",
        ),
        ("Half the teams done.", "in_progress", "", "alice"),
    ]
    assert second.last_update_on == dt.date(2026, 3, 16)
    updated = [e for e in events(session, "action") if e.action == "action_updated"]
    assert [e.details.pop("update") for e in updated] == [u.id for u in second.updates]
    assert [e.details for e in updated] == [
        {"from": "open", "to": "in_progress", "rag": "green", "evidence": True, "due_moved": False},
        {
            "from": "in_progress",
            "to": "in_progress",
            "rag": "green",
            "evidence": False,
            "due_moved": False,
        },
    ]
    assert all("Training" not in str(e.details) for e in updated)


def test_a_new_due_date_moves_the_follow_up(
    three: list[actions.ActionView], uow: UnitOfWork, session: Session
) -> None:
    fathers = three[1]
    row = session.get(Action, fathers.id)
    assert row is not None
    row.chase_on = dt.date(2026, 4, 16)  # as the follow-up planned it
    moved = actions.update(
        uow, fathers.id, note="Moved after the review.", due_on=dt.date(2026, 6, 30)
    )
    assert moved.due_on == dt.date(2026, 6, 30)
    assert row.chase_on is None  # the follow-up plans the new date's steps
    assert events(session, "action")[-1].details["due_on"] == "2026-06-30"
    with pytest.raises(ActionRejected, match="2026-06-27 is a Saturday: choose a working day"):
        actions.update(uow, fathers.id, note="Again.", due_on=dt.date(2026, 6, 27))
    assert stored(session, fathers.id).due_on == dt.date(2026, 6, 30)


def test_a_done_action_can_only_go_back_to_in_progress(
    three: list[actions.ActionView], uow: UnitOfWork, session: Session
) -> None:
    voice = three[0]
    done = actions.close(uow, voice.id, done=True, note="Audited in September.")
    assert (done.status, done.shown_rag, done.closed_at is not None) == ("done", "green", True)
    with pytest.raises(InvalidState, match=f"Action {voice.id} is done: it cannot become open"):
        actions.update(uow, voice.id, note="Open again.", status="open")
    with pytest.raises(InvalidState, match="it cannot become done"):
        actions.update(uow, voice.id, note="Just a note.")
    reopened = actions.update(uow, voice.id, note="The audit found gaps.", status="in_progress")
    assert (reopened.status, reopened.closed_at) == ("in_progress", None)
    assert [u.status for u in reopened.updates] == ["done", "in_progress"]
    closed = [e for e in events(session, "action") if e.action == "action_closed"]
    assert [(e.details["from"], e.details["to"]) for e in closed] == [("open", "done")]


def test_a_dropped_action_needs_its_reason_and_never_changes_again(
    three: list[actions.ActionView], uow: UnitOfWork, session: Session
) -> None:
    family = three[2]
    with pytest.raises(InvalidState, match="can be dropped only with a reason") as refused:
        actions.close(uow, family.id, done=False)
    assert refused.value.missing == "reason"
    with pytest.raises(InvalidState, match="dropped only with its reason, by closing it"):
        actions.update(uow, family.id, note="Drop it.", status="dropped")
    assert stored(session, family.id).status == "open"
    assert session.scalar(select(func.count()).select_from(ActionUpdate)) == 0

    dropped = actions.close(
        uow, family.id, done=False, reason="The service was recommissioned.", note="Agreed by QA."
    )
    assert (dropped.status, dropped.status_reason, dropped.shown_rag) == (
        "dropped",
        "The service was recommissioned.",
        "-",
    )
    for change in (
        lambda: actions.update(uow, family.id, note="Back.", status="in_progress"),
        lambda: actions.close(uow, family.id, done=True),
    ):
        with pytest.raises(InvalidState, match=f"Action {family.id} is dropped: it cannot become"):
            change()
    (event,) = [e for e in events(session, "action") if e.action == "action_closed"]
    assert event.details["to"] == "dropped"
    assert "recommissioned" not in str(event.details)


def test_an_update_with_a_problem_writes_nothing(
    three: list[actions.ActionView], uow: UnitOfWork, session: Session
) -> None:
    voice = three[0]
    before = len(events(session, "action"))
    with pytest.raises(ActionRejected) as refused:
        actions.update(uow, voice.id, note="", evidence="Seen 31/12/2015.", status="done")
    assert str(refused.value).startswith("The update was not recorded; nothing was written")
    assert "note: the note of the update is missing" in str(refused.value)
    assert "evidence: this looks like it holds a date of birth" in str(refused.value)
    assert stored(session, voice.id).status == "open"
    assert len(events(session, "action")) == before
    with pytest.raises(NotFound, match="There is no action 999"):
        actions.update(uow, 999, note="Hello.")


# --- the RAG on a later day ------------------------------------------------------------------


def test_refresh_rates_the_open_actions_for_today_and_writes_only_the_changes(
    three: list[actions.ActionView], make_uow: MakeUow, session: Session
) -> None:
    voice, fathers, family = three
    assert [v.rag for v in three] == ["green", "green", "amber"]
    actions.close(make_uow(), family.id, done=True)  # closed: never rated again
    # 1 April: fathers' 30 April is within 20 working days (amber); voice is still green
    april = make_uow(at=at("2026-04-01"))
    assert actions.refresh_rag(april) == 1
    assert stored(session, fathers.id).rag == "amber"
    assert actions.refresh_rag(april) == 0
    # voice's 40 working days without an update end on 29 April (Easter skipped)
    assert actions.refresh_rag(make_uow(at=at("2026-04-28"))) == 0
    assert actions.refresh_rag(make_uow(at=at("2026-04-29"))) == 1
    assert stored(session, voice.id).rag == "amber"
    # 1 May: fathers' is past its due date
    assert actions.refresh_rag(make_uow(at=at("2026-05-01"))) == 1
    assert stored(session, fathers.id).rag == "red"
    changed = [e for e in events(session, "action") if e.action == "action_rag_changed"]
    assert [(e.object_id, e.details["from"], e.details["to"]) for e in changed] == [
        (str(fathers.id), "green", "amber"),
        (str(voice.id), "green", "amber"),
        (str(fathers.id), "amber", "red"),
    ]


# --- through the composition root ------------------------------------------------------------


def test_the_app_adds_an_action_and_emails_its_owner_their_link(
    voice: Finding, app: App, sink: Sink, session: Session
) -> None:
    added, sent = app.add_action(
        lesson_id=voice.id, text=TEXT, measure=MEASURE, owner="amara-bello"
    )
    assert sent.sent == 1 and sent.failed == 0
    (received,) = sink.messages
    assert list(received.rcpt_tos) == ["amara.bello@example.org"]
    body = received.parsed().get_body(preferencelist=("plain",))
    assert body is not None and "/action/" in body.get_content()
    assert added.link_sent_at is not None
    session.expire_all()
    assert [e.action for e in events(session, "action")] == ["action_added", "action_link_sent"]


def test_an_action_refused_by_the_app_sends_nothing(
    voice: Finding, app: App, sink: Sink, session: Session
) -> None:
    with pytest.raises(ActionRejected):
        app.add_action(lesson_id=voice.id, text=TEXT, measure="", owner="amara-bello")
    assert sink.messages == []
    session.expire_all()
    assert action_rows(session) == 0


def test_a_rounds_findings_stay_as_they_were_once_acted_on(
    voice: Finding, uow: UnitOfWork, session: Session
) -> None:
    from audit_core.services.moderation import record_audit_day, start_sheet

    add(uow, voice.id)
    session.commit()
    sheet = start_sheet(uow, "2026-H1")
    regraded = tuple(
        dataclasses.replace(c, key_findings="Corrected the next day.") for c in sheet.cases
    )
    assert record_audit_day(uow, "2026-H1", dataclasses.replace(sheet, cases=regraded)).changed
    session.commit()
    reworded = tuple(dataclasses.replace(f, text=f"{f.text} (reworded)") for f in sheet.findings)
    with pytest.raises(
        InvalidState, match="1 action\\(s\\) were made from round 2026-H1's lessons"
    ):
        record_audit_day(uow, "2026-H1", dataclasses.replace(sheet, findings=reworded))
    session.rollback()
    assert session.get(Finding, voice.id) is not None
