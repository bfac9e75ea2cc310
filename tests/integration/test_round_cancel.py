"""``round cancel`` for a planned round and for an open one (everyone with a task is told,
links stop working), a cancelled period planned again, and ``round list``."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.rounds import PUBLIC_URL, delivered_round, planned_round
from support.trail import events

from audit_core.adapters.smtp_sink import Sink
from audit_core.bootstrap import App
from audit_core.domain import tokens
from audit_core.domain.errors import InvalidState, PlanningError
from audit_core.domain.models import (
    Assignment,
    AuditRound,
    CaseFile,
    CaseInvolvement,
    OutboxMessage,
    RoundCase,
    RoundStatus,
)
from audit_core.services.planning import plan_round
from audit_core.services.queries import get_round
from audit_core.services.reference import sync_reference_data
from audit_core.services.round_cancel import cancel_round
from audit_core.services.round_list import list_rounds
from audit_core.services.round_view import show_round
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

REASON = "The joint inspection moved to this half-year; the round will be planned again."


def links_in(sink: Sink) -> list[str]:
    found = []
    for received in sink.messages:
        text = received.parsed().get_body(preferencelist=("plain",))
        assert text is not None
        found += re.findall(rf"{re.escape(PUBLIC_URL)}/return/\S+", text.get_content())
    return found


def token_works(session: Session, link: str) -> bool:
    token_hash = tokens.hash_token(link.rsplit("/", 1)[1])
    return (
        session.scalar(select(Assignment.id).where(Assignment.token_hash == token_hash)) is not None
    )


def test_a_planned_round_is_cancelled_with_its_reason_and_nobody_is_emailed(
    uow: UnitOfWork, session: Session
) -> None:
    planned_round(uow)
    no_mail = UnitOfWork(session, uow.config, uow.now, "alice")  # none needed

    result = cancel_round(no_mail, "2026-H1", REASON)

    assert (result.cancelled, result.was, result.message_ids) == (True, "planned", [])
    audit_round = get_round(session, "2026-H1")
    assert (audit_round.status, audit_round.cancel_reason) == (RoundStatus.CANCELLED, REASON)
    assert audit_round.cancelled_at == uow.now
    (event,) = [e for e in events(session, round_id="2026-H1") if e.action == "round_cancelled"]
    assert event.details == {"reason": REASON, "was": "planned"}
    assert session.scalars(select(OutboxMessage)).all() == []


def test_cancelling_an_open_round_tells_every_auditor_with_a_task_and_retires_their_links(
    uow: UnitOfWork, app: App, sink: Sink, session: Session
) -> None:
    delivered_round(uow, app, sink)
    links = links_in(sink)
    assert len(links) == 5 and all(token_works(session, link) for link in links)
    before = sink.count

    result, sent = app.cancel_round("2026-H1", REASON)

    assert (result.auditors_told, result.leads_told, result.links_retired) == (5, 2, 5)
    assert result.unit_told and sent is not None and sent.sent == 8
    notices = sink.messages[before:]
    subjects = sorted(str(m.parsed()["Subject"]) for m in notices)
    assert "Case audit 2026-H1 cancelled: 7 people told" in subjects  # the business unit's
    assert sum("nothing more to do" in s for s in subjects) == 7
    auditor_notice = next(m for m in notices if "amara.bello@example.org" in m.rcpt_tos)
    body = auditor_notice.parsed().get_body(preferencelist=("plain",))
    assert body is not None and REASON in body.get_content()
    assert "The link in your task email no longer works" in body.get_content()
    session.expire_all()
    assert not any(token_works(session, link) for link in links)
    keys = set(session.scalars(select(OutboxMessage.dedupe_key)))
    assert {k for k in keys if k.startswith("round-cancelled:")} >= {"round-cancelled:2026-H1"}
    retired = [e for e in events(session, round_id="2026-H1") if e.action == "link_retired"]
    assert len(retired) == 5


def test_cancelling_twice_changes_and_sends_nothing_more(
    uow: UnitOfWork, app: App, sink: Sink, session: Session
) -> None:
    delivered_round(uow, app, sink)
    app.cancel_round("2026-H1", REASON)
    count = sink.count

    again, sent = app.cancel_round("2026-H1", "another reason")

    assert (again.cancelled, sent, sink.count) == (False, None, count)
    session.expire_all()
    assert get_round(session, "2026-H1").cancel_reason == REASON


def test_a_cancellation_needs_a_reason_and_a_round_past_fieldwork_cannot_be_cancelled(
    uow: UnitOfWork, session: Session
) -> None:
    audit_round = planned_round(uow)
    with pytest.raises(PlanningError, match="Say why the round is cancelled") as error:
        cancel_round(uow, "2026-H1", "  ")
    assert error.value.missing == "reason"
    audit_round.status = RoundStatus.MODERATION
    with pytest.raises(InvalidState, match="only a planned or open round can be cancelled"):
        cancel_round(uow, "2026-H1", REASON)


# --- a cancelled period planned again ---------------------------------------------------------


def add_cases(uow: UnitOfWork, count: int) -> None:
    sync_reference_data(uow)
    for n in range(count):
        case = CaseFile(
            area_id="hackney",
            reference=f"HK-9{n}",
            category="child_in_need",
            age_band="5-10",
            flags=["domestic_abuse"],
            last_activity_on=dt.date(2026, 1, 12),
            created_at=uow.now,
            updated_at=uow.now,
        )
        case.involvements = [
            CaseInvolvement(agency_id=a) for a in ("hackney-csc", "met-police", "gp")
        ]
        uow.session.add(case)
    uow.session.flush()


def plan(uow: UnitOfWork) -> None:
    plan_round(
        uow, period="2026-H1", focus_id="think-family", area_ids=["hackney"], cases_per_area=2
    )


def test_a_cancelled_period_can_be_planned_again_and_the_cancelled_round_keeps_its_rows(
    uow: UnitOfWork, app: App, sink: Sink, session: Session
) -> None:
    delivered_round(uow, app, sink)
    app.cancel_round("2026-H1", REASON)
    session.expire_all()
    old_cases = set(session.scalars(select(RoundCase.id).where(RoundCase.round_id == "2026-H1")))
    old_mail = set(
        session.scalars(select(OutboxMessage.id).where(OutboxMessage.round_id == "2026-H1"))
    )
    add_cases(uow, 2)

    plan(uow)
    session.commit()

    moved = get_round(session, "2026-H1-cancelled-1")
    assert (moved.status, moved.cancel_reason) == (RoundStatus.CANCELLED, REASON)
    assert {rc.id for rc in moved.cases} == old_cases
    assert (
        set(
            session.scalars(
                select(OutboxMessage.id).where(OutboxMessage.round_id == "2026-H1-cancelled-1")
            )
        )
        == old_mail
    )
    new = get_round(session, "2026-H1")
    assert new.status == RoundStatus.PLANNED and len(new.cases) == 2
    (renamed,) = [e for e in events(session) if e.action == "round_renamed"]
    assert (renamed.round_id, renamed.details["from"], renamed.details["to"]) == (
        "2026-H1-cancelled-1",
        "2026-H1",
        "2026-H1-cancelled-1",
    )
    assert show_round(uow, "2026-h1-cancelled-1").status == RoundStatus.CANCELLED


def test_the_cases_of_a_cancelled_round_can_be_chosen_again(
    uow: UnitOfWork, session: Session
) -> None:
    add_cases(uow, 2)
    plan(uow)
    first = {rc.case_id for rc in get_round(session, "2026-H1").cases}
    cancel_round(uow, "2026-H1", REASON)

    plan(uow)  # the register has only these two cases

    assert {rc.case_id for rc in get_round(session, "2026-H1").cases} == first


def test_a_period_cancelled_twice_keeps_both_rounds_and_the_new_one_gets_its_own_notices(
    uow: UnitOfWork, app: App, sink: Sink, session: Session
) -> None:
    delivered_round(uow, app, sink)
    app.cancel_round("2026-H1", REASON)
    session.expire_all()
    add_cases(uow, 2)
    plan(uow)
    session.commit()
    app.launch("2026-H1", early=True)  # planned for the next working day
    app.cancel_round("2026-H1", "cancelled again")
    session.expire_all()
    plan(uow)
    session.commit()

    ids = set(session.scalars(select(AuditRound.id)))
    assert ids == {"2026-H1", "2026-H1-cancelled-1", "2026-H1-cancelled-2"}
    keys = set(session.scalars(select(OutboxMessage.dedupe_key)))
    assert {"round-cancelled:2026-H1", "round-cancelled:2026-H1:2"} <= keys
    assert {"launch-summary:2026-H1", "launch-summary:2026-H1:2"} <= keys


# --- round list ---------------------------------------------------------------------------------


def test_round_list_gives_each_rounds_status_dates_and_progress_by_shown_state(
    uow: UnitOfWork, app: App, sink: Sink, session: Session
) -> None:
    delivered_round(uow, app, sink)
    planned_round(uow, round_id="2026-H2", cases=())
    session.commit()

    lines = {line.round_id: line for line in list_rounds(uow)}

    opened = lines["2026-H1"].to_json()
    assert opened["status"] == "open"
    assert opened["focus"] == {"id": "think-family", "name": "Think Family"}
    assert opened["areas"] == ["city", "hackney"]
    assert (opened["launch_on"], opened["due_on"]) == ("2026-03-02", "2026-03-30")
    assert opened["cases"] == 3 and opened["assignments"] == 7
    assert opened["progress"] == {
        "unfilled": 2,
        "assigned": 0,
        "queued": 0,
        "sent": 5,
        "failed": 0,
        "declined": 0,
        "submitted": 0,
    }
    assert lines["2026-H2"].status == "planned" and lines["2026-H2"].assignments == 0
