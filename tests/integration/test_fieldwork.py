"""Fixing an open round: reassign, record a decline, fill a slot, extend a deadline.

Each test starts from the example round launched and delivered on Monday 2 March 2026
(HK-00123: Amara Bello for hackney-csc, DS Sarah Chukwuma for met-police, gp unfilled;
CT-00042: Eleanor Ashdown, Oliver Pemberton; HK-00456: Fatima El-Amin, housing
unfilled), and reads what the auditors and the business unit receive.
"""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.rounds import PUBLIC_URL, CaseSpec, delivered_round
from support.trail import events

from audit_core.adapters.smtp_sink import Received, Sink
from audit_core.bootstrap import App
from audit_core.domain import tokens
from audit_core.domain.errors import AuditRoundError, InvalidState, PlanningError
from audit_core.domain.models import Assignment, AssignmentStatus, AuditRound
from audit_core.domain.policy import BoardConfig
from audit_core.services import deadlines, fieldwork
from audit_core.services.queries import round_assignments
from audit_core.services.round_changes import reassign
from audit_core.services.round_view import show_round
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

ROUND = "2026-H1"
AMARA, TOMASZ = "amara.bello@example.org", "tomasz.wierzbicki@example.org"
SARAH, DANIEL = "sarah.chukwuma@example.org", "daniel.costa@example.org"
LINK = re.compile(re.escape(PUBLIC_URL) + r"/return/([A-Za-z0-9_-]+)")


@pytest.fixture
def launched(uow: UnitOfWork, app: App, sink: Sink) -> list[Received]:
    """The example round, launched and delivered; the sink emptied afterwards."""
    received = delivered_round(uow, app, sink)
    sink.clear()
    return received


def deliver(uow: UnitOfWork, app: App, sink: Sink) -> list[Received]:
    """Commit what the use case did, send it, and return what arrived."""
    uow.session.commit()
    result = app.dispatch()
    assert result.failed == 0 and result.retrying == 0
    return sink.messages


def to(received: list[Received], address: str) -> list[EmailMessage]:
    return [r.parsed() for r in received if address in r.rcpt_tos]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return " ".join(str(body.get_content()).split())


def token_in(message: EmailMessage) -> str:
    found = LINK.search(text_of(message))
    assert found is not None, "no secure link in the email"
    return found.group(1)


def holder_of(session: Session, token: str) -> Assignment | None:
    """The assignment a link opens, if any (as the portal will look it up)."""
    session.expire_all()
    return session.scalars(
        select(Assignment).where(Assignment.token_hash == tokens.hash_token(token))
    ).one_or_none()


def shown(uow: UnitOfWork) -> dict[str, tuple[str | None, str]]:
    """``round show``'s assignments: case/agency -> (auditor, state)."""
    uow.session.expire_all()
    view = show_round(uow, ROUND)
    return {f"{a.case_ref}/{a.agency_id}": (a.auditor_id, a.status) for a in view.assignments}


def actions(session: Session) -> list[str]:
    return [e.action for e in events(session, round_id=ROUND)]


# --- reassign ----------------------------------------------------------------------------------


def test_after_a_reassignment_the_old_link_opens_nothing_and_the_new_auditor_has_a_task(
    uow: UnitOfWork, session: Session, app: App, sink: Sink, launched: list[Received]
) -> None:
    (amaras_task,) = to(launched, AMARA)
    old_token = token_in(amaras_task)
    assert holder_of(session, old_token) is not None

    result = reassign(
        uow,
        round_id=ROUND,
        case_ref="HK-00123",
        agency_id="hackney-csc",
        auditor_id="tomasz-wierzbicki",
    )
    received = deliver(uow, app, sink)

    assert (result.previous, result.auditor_id, result.changed) == (
        "amara-bello",
        "tomasz-wierzbicki",
        True,
    )
    assert holder_of(session, old_token) is None
    (task,) = to(received, TOMASZ)
    new_holder = holder_of(session, token_in(task))
    assert new_holder is not None and new_holder.auditor_id == "tomasz-wierzbicki"
    assert "Case audit 2026-H1: HK-00123" in task["Subject"]
    assert task["Message-ID"] != amaras_task["Message-ID"]  # a task of its own, not a resend
    assert shown(uow)["HK-00123/hackney-csc"] == ("tomasz-wierzbicki", "sent")
    assert {"link_retired", "auditor_reassigned", "task_issued"} <= set(actions(session))


def test_the_released_auditor_is_told_only_the_case_agency_and_focus_and_to_do_nothing_more(
    uow: UnitOfWork, app: App, sink: Sink, launched: list[Received]
) -> None:
    reassign(
        uow,
        round_id=ROUND,
        case_ref="HK-00123",
        agency_id="hackney-csc",
        auditor_id="tomasz-wierzbicki",
    )
    (note,) = to(deliver(uow, app, sink), AMARA)

    text = text_of(note)
    assert "nothing more to do" in note["Subject"]
    assert "HK-00123" in text and "Think Family" in text
    assert "Hackney Children and Families Service" in text
    assert "You need do nothing more for this case." in text
    assert "/return/" not in text and not list(note.iter_attachments())  # no link, no calendar
    assert "Return due" not in text and "Area" not in text


def test_reassigning_again_sends_the_new_auditor_one_task_and_changes_nothing(
    uow: UnitOfWork, session: Session, app: App, sink: Sink, launched: list[Received]
) -> None:
    change = {
        "round_id": ROUND,
        "case_ref": "HK-00123",
        "agency_id": "hackney-csc",
        "auditor_id": "tomasz-wierzbicki",
    }
    reassign(uow, **change)
    deliver(uow, app, sink)
    trail = len(events(session))

    again = reassign(uow, **change)
    received = deliver(uow, app, sink)

    assert again.changed is False and again.queued == ()
    assert len(to(received, TOMASZ)) == 1 and len(to(received, AMARA)) == 1
    assert len(events(session)) == trail


def test_an_open_round_is_reassigned_under_the_planning_rules_and_capacity_counts_what_is_held(
    uow: UnitOfWork, app: App, sink: Sink
) -> None:
    delivered_round(
        uow,
        app,
        sink,
        cases=(
            CaseSpec("HK-1", "hackney", {"met-police": "daniel-costa"}),
            CaseSpec("HK-2", "hackney", {"met-police": "daniel-costa"}),
            CaseSpec("HK-3", "hackney", {"met-police": "sarah-chukwuma"}),
        ),
    )

    def give(case: str, agency: str, auditor: str) -> None:
        reassign(uow, round_id=ROUND, case_ref=case, agency_id=agency, auditor_id=auditor)

    with pytest.raises(PlanningError, match=r"has no capacity left this round \(2 of 2 taken\)"):
        give("HK-3", "met-police", "daniel-costa")
    with pytest.raises(PlanningError, match="belongs to hackney-csc, not met-police"):
        give("HK-3", "met-police", "amara-bello")
    give("HK-1", "met-police", "hannah-greenberg")  # Daniel is released from one case
    give("HK-3", "met-police", "daniel-costa")  # so he can take another
    assert shown(uow)["HK-3/met-police"] == ("daniel-costa", "queued")


def test_an_open_round_cannot_leave_an_issued_audit_without_an_auditor_or_move_a_submitted_one(
    uow: UnitOfWork, session: Session, launched: list[Received]
) -> None:
    with pytest.raises(InvalidState, match="cannot be left without an auditor"):
        reassign(uow, round_id=ROUND, case_ref="HK-00123", agency_id="hackney-csc", auditor_id=None)
    submitted = assignment(session, "HK-00123", "hackney-csc")
    submitted.status = AssignmentStatus.SUBMITTED
    session.flush()
    with pytest.raises(InvalidState, match="is submitted: it cannot change hands"):
        reassign(
            uow,
            round_id=ROUND,
            case_ref="HK-00123",
            agency_id="hackney-csc",
            auditor_id="tomasz-wierzbicki",
        )


def assignment(session: Session, case_ref: str, agency: str) -> Assignment:
    audit_round = session.get(AuditRound, ROUND)
    assert audit_round is not None
    return next(
        a
        for rc in audit_round.cases
        for a in rc.assignments
        if rc.case.reference == case_ref and a.agency_id == agency
    )


# --- decline -----------------------------------------------------------------------------------


def test_a_decline_retires_the_link_tells_the_business_unit_why_and_waits_for_a_reassignment(
    uow: UnitOfWork,
    session: Session,
    config: BoardConfig,
    app: App,
    sink: Sink,
    launched: list[Received],
) -> None:
    (sarahs_task,) = to(launched, SARAH)
    old_token = token_in(sarahs_task)

    result = fieldwork.decline(
        uow,
        round_id=ROUND,
        case_ref="HK-00123",
        agency_id="met-police",
        reason="She interviewed the mother in 2025.",
    )
    received = deliver(uow, app, sink)

    assert (result.changed, result.status) == (True, "declined")
    assert holder_of(session, old_token) is None
    (notice,) = to(received, config.board.business_unit.email)
    text = text_of(notice)
    assert (
        "DS Sarah Chukwuma declined HK-00123 (Metropolitan Police (Central East BCU))"
        in notice["Subject"]
    )
    assert "Reason given: She interviewed the mother in 2025." in text
    assert "auditround round reassign 2026-H1 HK-00123 --agency met-police --to AUDITOR" in text
    assert "Auditors who could take it now: daniel-costa, hannah-greenberg." in text
    assert to(received, SARAH) == []  # she declined: she is not told again
    assert shown(uow)["HK-00123/met-police"] == ("sarah-chukwuma", "declined")
    declined = [e for e in events(session) if e.action == "task_declined"]
    # the auditor's own words stay with the audit (which the retention purge reaches), not
    # in the trail, which keeps everything for good
    assert len(declined) == 1 and "reason" not in declined[0].details
    assert "She interviewed" not in str(declined[0].details)
    [audit] = [a for a in round_assignments(session, ROUND) if a.status == "declined"]
    assert audit.declined_reason == "She interviewed the mother in 2025."

    later = reassign(
        uow, round_id=ROUND, case_ref="HK-00123", agency_id="met-police", auditor_id="daniel-costa"
    )
    received = deliver(uow, app, sink)
    assert later.previous == "sarah-chukwuma" and [k.split(":")[0] for k in later.queued] == [
        "task"
    ]
    assert len(to(received, DANIEL)) == 1 and to(received, SARAH) == []
    assert shown(uow)["HK-00123/met-police"] == ("daniel-costa", "sent")


def test_recording_a_decline_again_changes_and_sends_nothing(
    uow: UnitOfWork, session: Session, app: App, sink: Sink, launched: list[Received]
) -> None:
    decline = {
        "round_id": ROUND,
        "case_ref": "HK-00123",
        "agency_id": "met-police",
        "reason": "Not our case.",
    }
    fieldwork.decline(uow, **decline)
    first = len(deliver(uow, app, sink))
    trail = len(events(session))

    again = fieldwork.decline(uow, **decline)

    assert again.changed is False
    assert len(deliver(uow, app, sink)) == first == 1
    assert len(events(session)) == trail


def test_a_decline_needs_a_reason_and_a_task_that_is_out(
    uow: UnitOfWork, launched: list[Received]
) -> None:
    with pytest.raises(AuditRoundError, match="Say why") as refused:
        fieldwork.decline(
            uow, round_id=ROUND, case_ref="HK-00123", agency_id="met-police", reason="  "
        )
    assert refused.value.missing == "reason"
    with pytest.raises(InvalidState, match="gp audit of case HK-00123 has no task out"):
        fieldwork.decline(uow, round_id=ROUND, case_ref="HK-00123", agency_id="gp", reason="x")


# --- fill --------------------------------------------------------------------------------------


def test_filling_a_slot_with_the_nominated_auditor_sends_the_task_and_closes_the_nomination(
    uow: UnitOfWork, session: Session, app: App, sink: Sink, launched: list[Received]
) -> None:
    result = fieldwork.fill(
        uow, round_id=ROUND, case_ref="HK-00123", agency_id="gp", auditor_id="kofi-asamoah"
    )
    received = deliver(uow, app, sink)

    assert (result.previous, result.auditor_id, result.status) == (None, "kofi-asamoah", "issued")
    (task,) = to(received, "kofi.asamoah@example.org")
    assert holder_of(session, token_in(task)) is not None
    assert len(received) == 1  # nobody was released
    closed = [e for e in events(session) if e.action == "nomination_closed"]
    assert len(closed) == 1
    assert closed[0].details["auditor"] == "kofi-asamoah"
    assert closed[0].details["nomination_requested"] is True
    assert shown(uow)["HK-00123/gp"] == ("kofi-asamoah", "sent")
    assert "HK-00123" not in {u.case_ref for u in show_round(uow, ROUND).unfilled}

    again = fieldwork.fill(
        uow, round_id=ROUND, case_ref="HK-00123", agency_id="gp", auditor_id="kofi-asamoah"
    )
    assert again.changed is False
    assert len(deliver(uow, app, sink)) == 1


def test_fill_is_only_for_a_slot_waiting_for_a_nomination(
    uow: UnitOfWork, launched: list[Received]
) -> None:
    with pytest.raises(InvalidState, match="is not waiting for a nomination: it is issued"):
        fieldwork.fill(
            uow,
            round_id=ROUND,
            case_ref="HK-00123",
            agency_id="hackney-csc",
            auditor_id="tomasz-wierzbicki",
        )
    with pytest.raises(PlanningError, match="belongs to met-police, not gp"):
        fieldwork.fill(
            uow, round_id=ROUND, case_ref="HK-00123", agency_id="gp", auditor_id="daniel-costa"
        )


# --- extend ------------------------------------------------------------------------------------

EASTER_TUESDAY = dt.date(2026, 4, 7)  # after Good Friday and Easter Monday


def dues(session: Session) -> dict[str, dt.date]:
    session.expire_all()
    audit_round = session.get(AuditRound, ROUND)
    assert audit_round is not None
    return {
        f"{rc.case.reference}/{a.agency_id}": a.due_on
        for rc in audit_round.cases
        for a in rc.assignments
    }


def test_extending_the_round_moves_every_open_audit_and_tells_each_auditor_with_a_task(
    uow: UnitOfWork, session: Session, app: App, sink: Sink, launched: list[Received]
) -> None:
    assignment(session, "CT-00042", "city-police").status = AssignmentStatus.SUBMITTED
    session.flush()

    result = deadlines.extend(uow, round_id=ROUND, to=EASTER_TUESDAY, reason="Easter holidays")
    received = deliver(uow, app, sink)

    moved = dues(session)
    assert moved.pop("CT-00042/city-police") == dt.date(2026, 3, 30)  # submitted: left alone
    assert set(moved.values()) == {EASTER_TUESDAY}  # the unfilled slots too
    assert session.get(AuditRound, ROUND).due_on == EASTER_TUESDAY  # type: ignore[union-attr]
    assert len(result.moved) == 6
    told = sorted(a for r in received for a in r.rcpt_tos)
    assert told == sorted(
        [AMARA, SARAH, "eleanor.ashdown@example.org", "fatima.el-amin@example.org"]
    )
    (note,) = to(received, AMARA)
    assert "now due Tue 7 Apr" in note["Subject"]
    assert "Return due: Tuesday 7 April 2026 (was Monday 30 March 2026)" in text_of(note)
    assert "Easter holidays" not in text_of(note)  # the reason stays in the audit trail
    (event,) = [e for e in events(session) if e.action == "deadline_extended"]
    assert event.details == {
        "from": "2026-03-30",
        "to": "2026-04-07",
        "reason": "Easter holidays",
        "assignments": 6,
    }


def test_round_show_follows_an_extended_deadline_and_so_does_the_reminder_before_it(
    uow: UnitOfWork, app: App, sink: Sink, launched: list[Received]
) -> None:
    deadlines.extend(uow, round_id=ROUND, to=EASTER_TUESDAY, reason="Easter holidays")
    deliver(uow, app, sink)

    timeline = {what: day for day, what in show_round(uow, ROUND).timeline.events()}
    assert timeline["returns due"] == EASTER_TUESDAY
    # five working days before, skipping Easter Monday and Good Friday
    assert timeline["reminder (5 working days before the deadline)"] == dt.date(2026, 3, 27)
    assert timeline["audit day (moderation)"] == dt.date(2026, 4, 15)  # unchanged


def test_extending_to_the_same_date_again_sends_nothing_but_a_later_date_tells_them_again(
    uow: UnitOfWork, session: Session, app: App, sink: Sink, launched: list[Received]
) -> None:
    deadlines.extend(uow, round_id=ROUND, to=EASTER_TUESDAY, reason="Easter")
    assert len(deliver(uow, app, sink)) == 5
    trail = len(events(session))

    again = deadlines.extend(uow, round_id=ROUND, to=EASTER_TUESDAY, reason="Easter")
    assert again.changed is False
    assert len(deliver(uow, app, sink)) == 5
    assert len(events(session)) == trail

    deadlines.extend(uow, round_id=ROUND, to=dt.date(2026, 4, 9), reason="Easter, and a strike")
    assert len(deliver(uow, app, sink)) == 10


def test_extending_one_audit_moves_only_its_own_deadline(
    uow: UnitOfWork, session: Session, app: App, sink: Sink, launched: list[Received]
) -> None:
    before = dues(session)

    result = deadlines.extend(
        uow,
        round_id=ROUND,
        to=dt.date(2026, 4, 8),
        reason="Back from leave on 23 March",
        case_ref="HK-00456",
        agency_id="health-visiting",
    )
    received = deliver(uow, app, sink)

    after = dues(session)
    assert after.pop("HK-00456/health-visiting") == dt.date(2026, 4, 8)
    before.pop("HK-00456/health-visiting")
    assert after == before
    assert session.get(AuditRound, ROUND).due_on == dt.date(2026, 3, 30)  # type: ignore[union-attr]
    assert [m.case_ref for m in result.moved] == ["HK-00456"]
    assert [r.rcpt_tos for r in received] == [("fatima.el-amin@example.org",)]
    (line,) = [
        a
        for a in show_round(uow, ROUND).to_json()["assignments"]
        if a["agency"] == "health-visiting"
    ]
    assert line["due_on"] == "2026-04-08"


@pytest.mark.parametrize(
    ("new_date", "message"),
    [
        (dt.date(2026, 4, 4), "is a Saturday"),
        (dt.date(2026, 4, 6), "is a bank holiday (Easter Monday)"),
        (dt.date(2026, 3, 27), "is before the current one, 30/03/2026"),
        (dt.date(2026, 4, 15), "must come before the round's audit day"),
    ],
)
def test_a_deadline_moves_only_to_a_later_working_day_before_the_audit_day(
    uow: UnitOfWork, launched: list[Received], new_date: dt.date, message: str
) -> None:
    with pytest.raises(PlanningError, match=re.escape(message)):
        deadlines.extend(uow, round_id=ROUND, to=new_date, reason="asked")


def test_a_round_still_in_planning_is_not_fixed_with_fieldwork_commands(
    uow: UnitOfWork,
) -> None:
    from support.rounds import planned_round

    planned_round(uow)
    attempts = [
        lambda: fieldwork.decline(
            uow, round_id=ROUND, case_ref="HK-00123", agency_id="met-police", reason="x"
        ),
        lambda: fieldwork.fill(
            uow, round_id=ROUND, case_ref="HK-00123", agency_id="gp", auditor_id="kofi-asamoah"
        ),
        lambda: deadlines.extend(uow, round_id=ROUND, to=EASTER_TUESDAY, reason="x"),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidState, match="can be changed only while it is open"):
            attempt()
