"""A board year of rounds, built the way the business unit runs one, for the tests of well
established findings, carry-over and the year's report.

:func:`run_round` plans a round (directly, :func:`support.rounds.planned_round`) with its
own due date, launches it (its emails queued, none sent), then in the order of their
times: each auditor's return submitted through the return form's use case, and the chase
sweep on the days given (an outstanding return past its deadline is escalated to its
agency lead, kept as a ``chase_step``); then the returns close and the audit day is
recorded through the moderation use case, every case agreed and every finding sent
forward. :data:`H1` and :data:`H2` are Hackney's two rounds of the year 2026-27 (the
City of London has one case in the first):

- 2026-H1, Think Family, launched Monday 13 April 2026, due Monday 11 May: HK-00123 by
  Hackney CSC (in on 20 April: good; lesson engaging fathers, strength information
  sharing) and the police (in on 15 May, late, after the escalation of 13 May:
  requires improvement; lesson voice of the child); HK-00456 by health visiting (never
  in, escalated); CT-00042 by the City's children and families team (in on 21 April:
  outstanding; lesson Think Family).
- 2026-H2, Early Help, launched Monday 5 October 2026, due Monday 2 November: HK-00777 by
  Hackney CSC (in on 12 October: outstanding; lesson engaging fathers again, strength
  multi-agency working); its audit day on 16 November.

:func:`the_year` runs both and, between them, acts on the first round's lessons
(:func:`audit_core.services.actions.add`): :data:`ACTIONS` says who owns each and what
became of it; Hackney's briefing of 2026-H1 is issued on 10 June 2026, after the health
visitors' action was done and before the others moved on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from audit_core.domain.briefing_scope import parse_scope
from audit_core.domain.models import Assignment, AuditRound, Finding, FindingKind, RoundCase
from audit_core.services import actions, briefings, returns
from audit_core.services.chase import sweep
from audit_core.services.launch import launch_round
from audit_core.services.moderation import record_audit_day, start_sheet
from audit_core.services.ports import BriefingRenderer
from audit_core.services.round_lock import start_moderation
from audit_core.services.unit_of_work import UnitOfWork
from support import LONDON
from support.collation import graded
from support.portal import known_tokens
from support.rounds import CaseSpec, planned_round


@dataclass(frozen=True)
class Answer:
    """One agency's return of one case: its grade of every section, when it was submitted
    (None: never), its strengths (theme, key phrase, text) and lessons (theme, text)."""

    reference: str
    agency: str
    grade: str
    submitted: dt.datetime | None
    strengths: tuple[tuple[str, str, str], ...] = ()
    lessons: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RoundPlan:
    round_id: str
    focus: str
    cases: tuple[CaseSpec, ...]
    launched: dt.datetime
    due_on: dt.date
    answers: tuple[Answer, ...]
    audit_day: dt.datetime | None  # None: the round stays open, its audit day to come
    chase_days: tuple[dt.datetime, ...] = ()  # when the chase sweep runs


def at(uow: UnitOfWork, when: dt.datetime) -> UnitOfWork:
    return dataclasses.replace(uow, now=when)


def day(year: int, month: int, on: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(year, month, on, hour, 0, tzinfo=LONDON)


H1 = RoundPlan(
    round_id="2026-H1",
    focus="think-family",
    cases=(
        CaseSpec(
            "HK-00123", "hackney", {"hackney-csc": "amara-bello", "met-police": "sarah-chukwuma"}
        ),
        CaseSpec("HK-00456", "hackney", {"health-visiting": "fatima-el-amin"}),
        CaseSpec("CT-00042", "city", {"city-cft": "eleanor-ashdown"}),
    ),
    launched=day(2026, 4, 13, 9),
    due_on=dt.date(2026, 5, 11),
    answers=(
        Answer(
            "HK-00123",
            "hackney-csc",
            "good",
            day(2026, 4, 20),
            strengths=(
                (
                    "information-sharing",
                    "a shared chronology",
                    "Health and police kept a shared chronology.",
                ),
            ),
            lessons=(("engaging-fathers", "The father was not invited to the meetings."),),
        ),
        Answer(
            "HK-00123",
            "met-police",
            "requires-improvement",
            day(2026, 5, 15),
            lessons=(("voice-of-the-child", "The children's own words were not recorded."),),
        ),
        Answer("HK-00456", "health-visiting", "good", None),
        Answer(
            "CT-00042",
            "city-cft",
            "outstanding",
            day(2026, 4, 21),
            lessons=(("think-family", "The mother's own needs were not assessed."),),
        ),
    ),
    chase_days=(day(2026, 5, 13, 8),),
    audit_day=day(2026, 5, 27),
)
H2 = RoundPlan(
    round_id="2026-H2",
    focus="early-help",
    cases=(CaseSpec("HK-00777", "hackney", {"hackney-csc": "amara-bello"}),),
    launched=day(2026, 10, 5, 9),
    due_on=dt.date(2026, 11, 2),
    answers=(
        Answer(
            "HK-00777",
            "hackney-csc",
            "outstanding",
            day(2026, 10, 12),
            strengths=(
                (
                    "multi-agency-working",
                    "well attended meetings",
                    "Every agency came to the meetings.",
                ),
            ),
            lessons=(("engaging-fathers", "Fathers were again left out of the plans."),),
        ),
    ),
    audit_day=day(2026, 11, 16),
)


def run_round(uow: UnitOfWork, plan: RoundPlan) -> AuditRound:
    """The round of ``plan`` from planning to its audit day, recorded; committed."""
    audit_round, tokens = launch_plan(uow, plan)
    steps: list[tuple[dt.datetime, Callable[[], None]]] = []
    for answer in plan.answers:
        if answer.submitted is not None:
            token = tokens[(answer.reference, answer.agency)]
            steps.append((answer.submitted, _submitter(uow, answer, token)))
    steps += [(when, _sweeper(uow, when)) for when in plan.chase_days]
    for _, step in sorted(steps, key=lambda s: s[0]):
        step()
        uow.session.commit()
    if plan.audit_day is not None:
        record_day(uow, plan, plan.audit_day)
    return audit_round


def launch_plan(uow: UnitOfWork, plan: RoundPlan) -> tuple[AuditRound, dict[tuple[str, str], str]]:
    """The round of ``plan`` planned with its own dates and launched (its emails queued, none
    sent); a token for each task, by (case reference, agency). Committed."""
    audit_round = planned_round(
        at(uow, plan.launched), round_id=plan.round_id, focus=plan.focus, cases=plan.cases
    )
    audit_round.launch_on, audit_round.due_on = plan.launched.date(), plan.due_on
    if plan.audit_day is not None:
        audit_round.audit_day_on = plan.audit_day.date()
    for rc in audit_round.cases:
        for assignment in rc.assignments:
            assignment.due_on = plan.due_on
    uow.session.commit()
    launch_round(at(uow, plan.launched), plan.round_id)
    uow.session.commit()
    return audit_round, known_tokens(uow.session, plan.round_id)


def submit_answer(uow: UnitOfWork, answer: Answer, token: str) -> None:
    """The answer's return submitted through the return form's use case, on its day."""
    assert answer.submitted is not None
    fields: dict[str, str] = {}
    for n, (theme, phrase, text) in enumerate(answer.strengths, start=1):
        fields |= {f"strength-{n}-theme": theme, f"strength-{n}-phrase": phrase}
        fields[f"strength-{n}-text"] = text
    for n, (theme, text) in enumerate(answer.lessons, start=1):
        fields |= {f"lesson-{n}-theme": theme, f"lesson-{n}-text": text}
    outcome = returns.submit(
        at(uow, answer.submitted), token, graded(uow.config, answer.grade, **fields)
    )
    assert outcome is not None and outcome.submitted, outcome and outcome.problems


def _submitter(uow: UnitOfWork, answer: Answer, token: str) -> Callable[[], None]:
    return lambda: submit_answer(uow, answer, token)


def _sweeper(uow: UnitOfWork, when: dt.datetime) -> Callable[[], None]:
    def chase() -> None:
        sweep(at(uow, when))

    return chase


def record_day(uow: UnitOfWork, plan: RoundPlan, when: dt.datetime) -> None:
    """The round's returns close and its audit day is recorded: every case agreed (the
    first return's grade, else good), every finding forward; committed."""
    today = at(uow, when)
    start_moderation(today, plan.round_id)
    uow.session.commit()
    sheet = start_sheet(today, plan.round_id)
    grades = {a.reference: a.grade for a in reversed(plan.answers) if a.submitted}
    cases = tuple(
        dataclasses.replace(
            case,
            agreed_grade=grades.get(case.reference, "good"),
            key_findings="The agencies agreed the grade after hearing each other's audits.",
        )
        for case in sheet.cases
    )
    findings = tuple(dataclasses.replace(f, forward=True) for f in sheet.findings)
    result = record_audit_day(
        today, plan.round_id, dataclasses.replace(sheet, cases=cases, findings=findings)
    )
    assert result.moved_to_briefing, result.missing
    uow.session.commit()


def lesson_id(uow: UnitOfWork, round_id: str, theme: str) -> int:
    """The id of the round's lesson of this theme (one that went forward)."""
    found = uow.session.scalars(
        select(Finding.id).where(
            Finding.round_id == round_id,
            Finding.kind == FindingKind.LESSON,
            Finding.theme_id == theme,
        )
    ).first()
    assert found is not None, (round_id, theme)
    return found


def assignment_of(uow: UnitOfWork, round_id: str, reference: str, agency: str) -> Assignment:
    for rc in uow.session.scalars(select(RoundCase).where(RoundCase.round_id == round_id)):
        if rc.case.reference == reference:
            return next(a for a in rc.assignments if a.agency_id == agency)
    raise AssertionError((round_id, reference, agency))


@dataclass(frozen=True)
class PlannedAction:
    """An action from one of 2026-H1's lessons, and what became of it (the status and
    note of each update, in order, on the day given)."""

    key: str
    theme: str
    owner: str  # a person of the configuration
    text: str
    due_on: dt.date
    updates: tuple[tuple[dt.datetime, str, str], ...] = ()  # (when, status, note)


ACTIONS = (
    PlannedAction(
        "fathers",
        "engaging-fathers",
        "amara-bello",
        "Add a prompt on fathers and significant adults to the early help assessment.",
        dt.date(2026, 9, 30),
        (
            (day(2026, 7, 1), "in_progress", "The prompt is drafted with the practice leads."),
            (day(2026, 9, 1), "done", "The prompt is live on the assessment form."),
        ),
    ),
    PlannedAction(
        "voice",
        "voice-of-the-child",
        "sarah-chukwuma",
        "Brief every response team on recording what a child says, in the child's words.",
        dt.date(2026, 9, 30),
        ((day(2026, 6, 15), "in_progress", "Briefings are booked for the autumn."),),
    ),
    PlannedAction(
        "health",
        "voice-of-the-child",
        "fatima-el-amin",
        "Remind health visitors to see the children alone at each visit.",
        dt.date(2026, 8, 28),
        ((day(2026, 6, 1), "done", "Every health visiting team has had the reminder."),),
    ),
    PlannedAction(
        "city",
        "think-family",
        "eleanor-ashdown",
        "Ask about the parents' own needs at every assessment.",
        dt.date(2026, 11, 30),
    ),
)
ACTED_ON = day(2026, 5, 28)
H1_ISSUED = day(2026, 6, 10)


def the_year(uow: UnitOfWork, renderer: BriefingRenderer) -> dict[str, int]:
    """Both rounds, the actions on the first one's lessons and Hackney's first briefing
    issued, in the order of their days; the action ids by key. Committed."""
    run_round(uow, H1)
    made = {}
    for planned in ACTIONS:
        added = actions.add(
            at(uow, ACTED_ON),
            lesson_id=lesson_id(uow, "2026-H1", planned.theme),
            text=planned.text,
            measure="A sample of files audited again shows the change.",
            owner=planned.owner,
            due_on=planned.due_on,
        )
        made[planned.key] = added.id
    uow.session.commit()
    steps = [
        (when, planned, status, note)
        for planned in ACTIONS
        for when, status, note in planned.updates
    ]
    for when, planned, status, note in sorted(steps, key=lambda s: s[0]):
        if when > H1_ISSUED and not _issued(uow):
            issue_first_briefing(uow, renderer)
        moving = at(uow, when)
        if status == "done":
            actions.close(moving, made[planned.key], done=True, note=note)
        else:
            actions.update(moving, made[planned.key], note=note, status=status)
        uow.session.commit()
    run_round(uow, H2)
    return made


def _issued(uow: UnitOfWork) -> bool:
    return any(v.status == "issued" for v in briefings.every_version(uow, "hackney"))


def issue_first_briefing(uow: UnitOfWork, renderer: BriefingRenderer) -> None:
    """Hackney's briefing of 2026-H1: drafted by alice, approved by bob, issued; committed."""
    scope = parse_scope(["2026-H1"])
    briefings.draft(dataclasses.replace(at(uow, H1_ISSUED), actor="alice"), "hackney", scope)
    briefings.approve(dataclasses.replace(at(uow, H1_ISSUED), actor="bob"), "hackney", scope)
    briefings.issue(at(uow, H1_ISSUED), "hackney", scope, renderer)
    uow.session.commit()
