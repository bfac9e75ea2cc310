"""A round run to its close with every kind of free text a round holds, for the tests of
the retention purge and of subject access requests.

:func:`closed_round` runs the test round (:mod:`support.rounds`: HK-00123 and HK-00456 in
Hackney, CT-00042 in the City of London) through the use cases, on its days:

- launched on Monday 2 March 2026, due Monday 30 March; on launch day the returns come in
  through the return form's use case: HK-00123 by Hackney CSC (good, with good practice,
  development and recommendations written for recognition, a strength and a lesson) and
  by the Met Police (requires improvement, a strength and an immediate concern); CT-00042
  by the City's children and families team (good, a lesson); HK-00456's health visitor
  saves a draft only; the City Police decline (:data:`DECLINE`), so their task, not sent
  yet, is withdrawn;
- Wednesday 1 April 08:00, the chase: the health visitor's late return is escalated to
  the agency lead, and the business unit's digest is queued;
- Wednesday 15 April, the audit day: every case agreed with its key findings
  (:data:`KEY_FINDINGS`) and summary; every finding goes forward but the police's
  strength (kept back);
- Monday 20 April, both areas' briefings issued (alice drafts, bob approves): the round
  closes; an action on Hackney's lesson is made for Amara Bello and her link emailed;
  Tuesday 21 April she records progress;
- every email is then sent to the test's sink.

:data:`GONE` holds the free text typed into the round's returns, declines, kept-back
finding and key findings that never reached the briefing: what the purge must take;
:data:`FORWARDED`, the returns' words that went forward to the briefing as they were.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select

from audit_core.bootstrap import App
from audit_core.domain.briefing_scope import parse_scope
from audit_core.domain.models import Finding, FindingKind
from audit_core.services import actions, briefings, returns
from audit_core.services.action_links import send_link
from audit_core.services.chase import sweep
from audit_core.services.moderation import record_audit_day, start_sheet
from audit_core.services.ports import BriefingRenderer
from audit_core.services.round_lock import start_moderation
from audit_core.services.unit_of_work import UnitOfWork
from support import LONDON
from support.briefing_rounds import SUMMARIES
from support.collation import graded
from support.portal import known_tokens
from support.rounds import launched_round, planned_round

ROUND = "2026-H1"
GOOD_PRACTICE = "Nursery staff noticed the change in the boy's mood within a week."
DEVELOPMENT = "The referral waited nine days in the duty tray."
RECOMMENDATION = "Duty managers review the tray at the end of every day."
HACKNEY_STRENGTH = ("information-sharing", "a shared chronology", "Both kept one chronology.")
HACKNEY_LESSON = ("voice-of-the-child", "Nobody wrote down what the boy said at school.")
POLICE_STRENGTH = ("information-sharing", "same-day referral", "Referred on the day of the call.")
CONCERN = "The younger sibling has not been seen by any agency since January."
CITY_LESSON = ("think-family", "The mother's own needs were never assessed.")
DRAFT_NOTE = "Half-written: the health visitor's notes of the home visit."
DECLINE = "I supervised the social worker on this case."
KEY_FINDINGS = {
    "HK-00123": "Police and children's services disagreed on the threshold until the meeting.",
    "HK-00456": "Health visiting saw the family but the draft never became a return.",
    "CT-00042": "The team agreed the grade after hearing the mother's assessment.",
}
# What the purge takes: the words that never went forward to the briefing.
GONE = (
    GOOD_PRACTICE,
    DEVELOPMENT,
    RECOMMENDATION,
    *POLICE_STRENGTH[1:],
    CONCERN,
    DRAFT_NOTE,
    DECLINE,
    *KEY_FINDINGS.values(),
)
# What went forward in the auditors' own words: gone from the returns, kept in the
# audit day's findings and the briefing.
FORWARDED = (*HACKNEY_STRENGTH[1:], HACKNEY_LESSON[1], CITY_LESSON[1])
ACTION_TEXT = "Record in every assessment what the child says, in the child's words."
PROGRESS = "Every team leader has the new prompt."
CLOSED_AT = dt.datetime(2026, 4, 20, 10, 0, tzinfo=LONDON)
H1 = parse_scope([ROUND])


def at(uow: UnitOfWork, when: dt.datetime, actor: str | None = None) -> UnitOfWork:
    return dataclasses.replace(uow, now=when, actor=actor or uow.actor)


def day(month: int, on: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, on, hour, 0, tzinfo=LONDON)


def closed_round(uow: UnitOfWork, renderer: BriefingRenderer, app: App) -> int:
    """The round as the module says, closed on :data:`CLOSED_AT`, every email sent through
    ``app``; the action's id. Committed."""
    session = uow.session
    planned_round(at(uow, day(2, 27)))
    launched_round(at(uow, day(3, 2, 9)))
    tokens = known_tokens(session, ROUND)
    _answer(at(uow, day(3, 2, 11)), tokens)
    session.commit()
    sweep(at(uow, day(4, 1, 8)))
    session.commit()
    start_moderation(at(uow, day(4, 14)), ROUND)
    session.commit()
    _audit_day(at(uow, day(4, 15)))
    for area in ("hackney", "city"):
        briefings.draft(at(uow, CLOSED_AT, "alice"), area, H1)
        briefings.approve(at(uow, CLOSED_AT, "bob"), area, H1)
        briefings.issue(at(uow, CLOSED_AT, "alice"), area, H1, renderer)
        session.commit()
    action = actions.add(
        at(uow, CLOSED_AT),
        lesson_id=_lesson(uow, HACKNEY_LESSON[0]),
        text=ACTION_TEXT,
        measure="A sample of files audited again shows the change.",
        owner="amara-bello",
        due_on=dt.date(2026, 10, 30),
    )
    send_link(at(uow, CLOSED_AT), action.id)
    session.commit()
    actions.update(at(uow, day(4, 21)), action.id, note=PROGRESS, status="in_progress")
    session.commit()
    sent = app.dispatch()
    assert sent.failed == 0 and sent.retrying == 0, sent
    return action.id


def _answer(uow: UnitOfWork, tokens: dict[tuple[str, str], str]) -> None:
    config = uow.config
    recognition = {
        "good-recognition": GOOD_PRACTICE,
        "develop-recognition": DEVELOPMENT,
        "recommend-recognition": RECOMMENDATION,
    }
    answers = {
        ("HK-00123", "hackney-csc"): graded(
            config,
            "good",
            **recognition,
            **_strength(HACKNEY_STRENGTH),
            **_lesson_of(HACKNEY_LESSON),
        ),
        ("HK-00123", "met-police"): graded(
            config,
            "requires-improvement",
            **_strength(POLICE_STRENGTH),
            concern="yes",
            concern_text=CONCERN,
        ),
        ("CT-00042", "city-cft"): graded(config, "good", **_lesson_of(CITY_LESSON)),
    }
    for key, fields in answers.items():
        outcome = returns.submit(uow, tokens[key], fields)
        assert outcome is not None and outcome.submitted, outcome and outcome.problems
    draft = returns.save_draft(
        uow, tokens[("HK-00456", "health-visiting")], {"good-recognition": DRAFT_NOTE}
    )
    assert draft is not None and not draft.problems
    returns.decline_task(uow, tokens[("CT-00042", "city-police")], DECLINE)


def _strength(entry: tuple[str, str, str]) -> dict[str, str]:
    theme, phrase, text = entry
    return {"strength-1-theme": theme, "strength-1-phrase": phrase, "strength-1-text": text}


def _lesson_of(entry: tuple[str, str]) -> dict[str, str]:
    return {"lesson-1-theme": entry[0], "lesson-1-text": entry[1]}


def _audit_day(uow: UnitOfWork) -> None:
    """Every case agreed; every finding forward but the police's strength; committed."""
    sheet = start_sheet(uow, ROUND)
    cases = tuple(
        dataclasses.replace(
            c,
            agreed_grade="good",
            key_findings=KEY_FINDINGS[c.reference],
            summary=SUMMARIES[c.reference],
        )
        for c in sheet.cases
    )
    findings = tuple(
        dataclasses.replace(f, forward=f.key_phrase != POLICE_STRENGTH[1]) for f in sheet.findings
    )
    result = record_audit_day(
        uow, ROUND, dataclasses.replace(sheet, cases=cases, findings=findings)
    )
    assert result.moved_to_briefing, result.missing
    uow.session.commit()


def _lesson(uow: UnitOfWork, theme: str) -> int:
    found = uow.session.scalars(
        select(Finding.id).where(
            Finding.round_id == ROUND, Finding.kind == FindingKind.LESSON, Finding.theme_id == theme
        )
    ).first()
    assert found is not None
    return found
