"""The retention purge (``auditround retention run``) on a round run to its close with every
kind of free text (:func:`support.retention_rounds.closed_round`, closed on Monday 20 April
2026; the board keeps returns 24 months, so it is due from Thursday 20 April 2028)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from support import LONDON
from support.databases import as_role, login_role
from support.retention_rounds import (
    ACTION_TEXT,
    CONCERN,
    DECLINE,
    DRAFT_NOTE,
    FORWARDED,
    GONE,
    POLICE_STRENGTH,
    PROGRESS,
    ROUND,
    SUMMARIES,
    at,
    closed_round,
    day,
)
from support.trail import events

from audit_core.adapters import db
from audit_core.adapters.settings import SmtpSettings
from audit_core.bootstrap import App
from audit_core.domain.errors import InvalidState
from audit_core.domain.models import (
    Action,
    AuditReturn,
    AuditRound,
    Base,
    Briefing,
    CaseModeration,
    Finding,
    OutboxBody,
    OutboxMessage,
    OutboxStatus,
)
from audit_core.domain.policy import BoardConfig
from audit_core.domain.retention import PurgeReport
from audit_core.services import outbox
from audit_core.services.audit_verify import verify_trail
from audit_core.services.collation import collate
from audit_core.services.ports import BriefingRenderer, Mail
from audit_core.services.retention import purge_expired
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database
DUE = dt.datetime(2028, 4, 20, 5, 30, tzinfo=LONDON)  # the scheduler's run on the day
KEPT_KINDS = {"briefing", "action_link"}
TRAIL = {"audit_event", "audit_chain"}


@pytest.fixture
def closed(
    uow: UnitOfWork,
    renderer: BriefingRenderer,
    make_app: Callable[..., App],
    mail_settings: SmtpSettings,
) -> int:
    """The round closed, every email sent; the action's id."""
    return closed_round(uow, renderer, make_app(mail_settings, at=day(4, 22)))


def purge(uow: UnitOfWork, when: dt.datetime, *, dry_run: bool = False) -> PurgeReport:
    report = purge_expired(at(uow, when, "scheduler:purge-expired-returns"), dry_run=dry_run)
    uow.session.commit()
    return report


def tables(session: Session, *, trail: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in order (with the audit trail, or without)."""
    session.expire_all()
    return {
        t.name: [tuple(row) for row in session.execute(select(t).order_by(*t.primary_key))]
        for t in Base.metadata.sorted_tables
        if trail or t.name not in TRAIL
    }


def words_held(
    session: Session, words: tuple[str, ...] = GONE, *, only: str | None = None
) -> set[str]:
    """Which of these words any table but the audit trail (or only this one) still holds."""
    rows = {k: v for k, v in tables(session, trail=False).items() if only in (None, k)}
    held = json.dumps(rows, default=str, ensure_ascii=False)
    return {w for w in words if w in held}


def stored_returns(session: Session) -> dict[str, AuditReturn]:
    session.expire_all()
    found = session.scalars(select(AuditReturn).order_by(AuditReturn.id))
    return {f"{r.assignment.round_case.case.reference}/{r.assignment.agency_id}": r for r in found}


def test_a_round_within_its_retention_is_untouched(closed: int, uow: UnitOfWork) -> None:
    before = tables(uow.session)

    report = purge(uow, DUE - dt.timedelta(hours=6))  # 23:30 on Wednesday 19 April 2028

    assert report.purged == ()
    assert [(w.round_id, w.ended_on, w.due_from) for w in report.waiting] == [
        (ROUND, dt.date(2026, 4, 20), dt.date(2028, 4, 20))
    ]
    assert tables(uow.session) == before  # not a row changed, no event recorded


def test_on_the_day_its_retention_ends_every_word_of_its_returns_goes(
    closed: int, uow: UnitOfWork
) -> None:
    assert words_held(uow.session) == set(GONE)  # all there before
    assert words_held(uow.session, FORWARDED, only="audit_return") == set(FORWARDED)

    report = purge(uow, DUE)

    assert [r.round_id for r in report.purged] == [ROUND]
    assert report.totals() == {
        "returns": 4,  # three submitted, one draft
        "texts": 10,  # good practice, development, recommendations; phrases and texts
        "concerns": 1,
        "declines": 1,
        "findings": 1,  # the police's strength, kept back from the briefing
        "case_notes": 3,  # the key findings of each case
        "messages": 14,  # every email of the round but the two briefings and the action's
    }
    assert words_held(uow.session) == set()
    assert words_held(uow.session, FORWARDED, only="audit_return") == set()
    # what went forward stays in the audit day's findings and the briefing, as printed
    assert words_held(uow.session, FORWARDED, only="finding") == set(FORWARDED)
    assert words_held(uow.session, FORWARDED, only="briefing") == set(FORWARDED)


def test_the_grades_themes_and_states_of_the_returns_stay(closed: int, uow: UnitOfWork) -> None:
    held = uow.session.get(AuditRound, ROUND)  # as a long-lived session holds it
    message = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "task")).first()

    purge(uow, DUE)

    assert held is not None and held.purged_at == DUE  # seen without reading it again
    assert message is not None and message.body_purged_at == DUE

    kept = stored_returns(uow.session)
    hackney = kept["HK-00123/hackney-csc"]
    assert hackney.status == "submitted" and hackney.submitted_at is not None
    assert hackney.answers["recognition"] == {"grade": "good"}
    assert set(hackney.answers) == {s.id for s in uow.config.audit_tool.sections}
    assert hackney.strengths == [{"theme": "information-sharing"}]
    assert hackney.lessons == [{"theme": "voice-of-the-child"}]
    police = kept["HK-00123/met-police"]
    assert (police.immediate_concern, police.concern_text) == (True, None)
    assert kept["HK-00456/health-visiting"].answers == {}  # the draft had text, no grade
    round_ = uow.session.get(AuditRound, ROUND)
    assert round_ is not None and round_.purged_at == DUE


def test_what_went_forward_the_briefings_and_the_action_record_stay(
    closed: int, uow: UnitOfWork
) -> None:
    session = uow.session
    briefings_before = [
        (b.id, b.html, b.pdf_sha256, b.content) for b in session.scalars(select(Briefing))
    ]

    purge(uow, DUE)

    session.expire_all()
    assert [(b.id, b.html, b.pdf_sha256, b.content) for b in session.scalars(select(Briefing))] == (
        briefings_before
    )
    findings = {f.key_phrase or f.text: f for f in session.scalars(select(Finding))}
    forward = [f for f in findings.values() if f.forward]
    assert len(forward) == 3 and all(f.text for f in forward)
    kept_back = [f for f in findings.values() if not f.forward]
    assert [(f.theme_id, f.text, f.key_phrase) for f in kept_back] == [(POLICE_STRENGTH[0], "", "")]
    notes = list(session.scalars(select(CaseModeration).order_by(CaseModeration.id)))
    assert {n.summary for n in notes} == {
        SUMMARIES[r] for r in ("HK-00123", "HK-00456", "CT-00042")
    }
    assert {(n.agreed_grade, n.key_findings) for n in notes} == {("good", "")}
    action = session.get(Action, closed)
    assert action is not None and action.text == ACTION_TEXT
    assert [u.note for u in action.updates] == [PROGRESS]


def test_the_emails_lose_their_content_and_keep_who_they_went_to_and_when(
    closed: int, uow: UnitOfWork
) -> None:
    session = uow.session
    envelopes = {
        m.id: (m.kind, m.recipients, m.subject, m.status, m.queued_at, m.sent_at)
        for m in session.scalars(select(OutboxMessage))
    }

    purge(uow, DUE)

    session.expire_all()
    messages = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert {
        m.id: (m.kind, m.recipients, m.subject, m.status, m.queued_at, m.sent_at) for m in messages
    } == envelopes
    bodies = set(session.scalars(select(OutboxBody.id)))
    for m in messages:
        kept = m.kind in KEPT_KINDS
        assert (m.id in bodies, m.body_purged_at is None) == (kept, kept), m.kind
    assert {m.kind for m in messages if m.body_purged_at} >= {
        "task",  # the withdrawn one (the City Police declined) too
        "receipt",
        "concern",
        "declined",
        "escalation",
        "digest",  # names no round: about the rounds in the field when it was queued
    }
    task = next(m for m in messages if m.kind == "task" and m.status == OutboxStatus.WITHDRAWN)
    with pytest.raises(InvalidState, match="its content was purged on 20 April 2028"):
        outbox.show(session, task.id)
    with pytest.raises(InvalidState, match="cannot be sent again"):
        outbox.retry(uow, task.id)


def test_the_purge_is_recorded_with_its_counts_only_and_the_trail_still_verifies(
    closed: int, uow: UnitOfWork
) -> None:
    report = purge(uow, DUE)

    [event] = [e for e in events(uow.session) if e.action == "retention_purged"]
    assert (event.object_type, event.object_id, event.round_id) == ("audit_round", ROUND, ROUND)
    assert event.actor == "scheduler:purge-expired-returns"
    assert event.details == report.purged[0].counts()
    checked = verify_trail(uow.session)
    assert checked.intact, checked.sentence()


def test_running_it_again_purges_nothing_more(closed: int, uow: UnitOfWork) -> None:
    purge(uow, DUE)
    after_first = tables(uow.session)

    again = purge(uow, DUE + dt.timedelta(days=1))

    assert again.purged == () and again.waiting == ()
    assert tables(uow.session) == after_first


def test_an_email_still_waiting_to_be_sent_keeps_its_content_until_it_is_sent(
    closed: int, uow: UnitOfWork
) -> None:
    session = uow.session
    receipt = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "receipt")).first()
    assert receipt is not None
    receipt.status = OutboxStatus.QUEUED  # as if its mail server were still refusing it
    session.commit()

    first = purge(uow, DUE)
    receipt.status = OutboxStatus.SENT  # the dispatcher's next attempt gets through
    session.commit()
    second = purge(uow, DUE + dt.timedelta(days=1))

    assert first.totals()["messages"] == 13
    [later] = second.purged
    assert later.returns_purged_before and later.counts() == {
        **dict.fromkeys(later.counts(), 0),
        "messages": 1,
    }
    assert receipt.body_purged_at == DUE + dt.timedelta(days=1)
    purged = [e.details for e in events(session) if e.action == "retention_purged"]
    assert [d["messages"] for d in purged] == [13, 1]


def test_a_dry_run_says_what_would_go_and_writes_nothing(closed: int, uow: UnitOfWork) -> None:
    before = tables(uow.session)

    preview = purge(uow, DUE, dry_run=True)

    assert tables(uow.session) == before
    assert preview.dry_run and [r.round_id for r in preview.purged] == [ROUND]
    done = purge(uow, DUE)
    assert preview.totals() == done.totals()


def test_collation_gives_the_same_figures_after_the_purge(closed: int, uow: UnitOfWork) -> None:
    later = at(uow, DUE + dt.timedelta(hours=3))
    before = collate(later, ROUND).figures

    purge(uow, DUE)

    after = collate(later, ROUND).figures
    assert (after.by_section, after.by_agency, after.totals) == (
        before.by_section,
        before.by_agency,
        before.totals,
    )
    assert [(g.theme_id, g.count) for g in after.lessons] == [
        (g.theme_id, g.count) for g in before.lessons
    ]
    assert [(g.theme_id, g.count) for g in after.strengths] == [
        (g.theme_id, g.count) for g in before.strengths
    ]
    assert [c.description for c in after.concerns] == [""]  # raised, no longer described
    assert [c.description for c in before.concerns] == [CONCERN]


def test_a_cancelled_round_is_purged_its_retention_after_it_was_cancelled(
    uow: UnitOfWork, mail: Mail
) -> None:
    from support.portal import known_tokens
    from support.rounds import launched_round, planned_round

    from audit_core.services import returns
    from audit_core.services.round_cancel import cancel_round

    planned_round(uow)
    launched_round(uow)
    tokens = known_tokens(uow.session, ROUND)
    returns.save_draft(uow, tokens[("HK-00123", "hackney-csc")], {"good-recognition": DRAFT_NOTE})
    returns.decline_task(uow, tokens[("CT-00042", "city-police")], DECLINE)
    uow.session.commit()
    cancel_round(at(uow, day(3, 9)), ROUND, "The focus was changed by the board.")
    uow.session.commit()

    assert purge(uow, dt.datetime(2028, 3, 8, 12, 0, tzinfo=LONDON)).purged == ()
    report = purge(uow, dt.datetime(2028, 3, 9, 5, 30, tzinfo=LONDON))

    [purged] = report.purged
    assert (purged.status, purged.ended_on) == ("cancelled", dt.date(2026, 3, 9))
    assert (purged.returns, purged.texts, purged.declines) == (1, 1, 1)
    assert words_held(uow.session) == set()
    waiting = list(
        uow.session.scalars(select(OutboxMessage).where(OutboxMessage.status == "queued"))
    )
    assert waiting and all(m.body_purged_at is None for m in waiting)  # never sent: kept


def test_a_round_with_nothing_to_purge_still_leaves_its_event(uow: UnitOfWork) -> None:
    from support.rounds import planned_round

    from audit_core.services.round_cancel import cancel_round

    planned_round(uow)
    uow.session.commit()
    cancel_round(at(uow, day(3, 1)), ROUND, "Planned in error.")  # before it launched
    uow.session.commit()

    [purged] = purge(uow, dt.datetime(2028, 3, 1, 5, 30, tzinfo=LONDON)).purged

    assert set(purged.counts().values()) == {0}
    assert [e.details for e in events(uow.session) if e.action == "retention_purged"] == [
        purged.counts()
    ]
    assert purge(uow, dt.datetime(2028, 3, 2, 5, 30, tzinfo=LONDON)).purged == ()


def test_the_purge_runs_as_the_application_role(
    closed: int, engine: Engine, config: BoardConfig, uow: UnitOfWork
) -> None:
    """On PostgreSQL, as a role granted by ``auditround db grant``: it may delete the bytes
    of emails and change returns; on SQLite, on the database file itself."""
    if engine.dialect.name != "postgresql":
        report = purge(uow, DUE)
    else:
        with login_role(engine) as (role, password):
            App(config=config, engine=engine).grant_application_role(role)
            app_engine = db.make_engine(as_role(str(engine.url), role, password))
            try:
                with db.transaction(app_engine) as session:
                    report = purge_expired(dataclasses.replace(uow, session=session, now=DUE))
            finally:
                app_engine.dispose()
    assert report.totals()["messages"] == 14
    assert words_held(uow.session) == set()
    assert verify_trail(uow.session).intact
