"""Two board years, 2026-27 and 2027-28, run day by day with a fixed clock
(:func:`support.two_years.two_years`): four rounds in Hackney (the City in two of them),
the actions made from their lessons chased, escalated, closed, dropped and carried over,
Hackney's briefings reporting the earlier actions, a lesson theme that recurs and one that
skips a round, and both years' reports checked against what the simulation did.

The action follow-up runs at 08:30 on every one of the 507 working days of the two years,
so that whatever must not be sent is looked for every day, not only on the days it would
be due. Each test runs the two years afresh, in about 4 seconds on SQLite (nearly half of
it the four briefings' PDFs).

The follow-up days are worked out by hand from ``cadence.action_follow_up`` (reminders
10 and 0 working days before the due date, the overdue reminder 1 and the escalation 5
working days after it, the digest on Mondays), with the bank holidays of England in
mind; the year's figures are counted here from the plans of :mod:`support.two_years`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support import LONDON
from support.two_years import (
    ACTIONS,
    REPORTS,
    ROUNDS,
    ActionPlan,
    RoundLife,
    Simulation,
    two_years,
    working_days,
)
from support.year_rounds import Answer, RoundPlan, at, day

from audit_core.domain.briefing_scope import parse_scope
from audit_core.domain.models import ActionChaseStep, Finding, FindingKind, OutboxMessage
from audit_core.domain.policy import BoardConfig
from audit_core.domain.year_report import AgencyActions, ChaseRow, RoundRow
from audit_core.services import briefings
from audit_core.services.collation import collate
from audit_core.services.ports import BriefingRenderer
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database
D = dt.date
# each action's follow-up steps and the working day each was taken
FOLLOWED_UP = {
    "h1-voice": (
        ("reminder-10", D(2026, 9, 16)),
        ("reminder-0", D(2026, 9, 30)),  # due Wednesday 30 September 2026
        ("overdue", D(2026, 10, 1)),
        ("escalation", D(2026, 10, 7)),
    ),
    "h1-city": (
        ("reminder-10", D(2026, 11, 16)),
        ("reminder-0", D(2026, 11, 30)),
        ("overdue", D(2026, 12, 1)),
        ("escalation", D(2026, 12, 7)),
    ),
    "h2-fathers": (
        ("reminder-10", D(2027, 3, 15)),  # Good Friday and Easter Monday come before the due date
        ("reminder-0", D(2027, 3, 31)),
        ("overdue", D(2027, 4, 1)),
        ("escalation", D(2027, 4, 7)),
        ("reminder-10", D(2027, 9, 16)),  # for its new due date, 30 September; done on the 20th
    ),
    "27a-fathers": (
        ("reminder-10", D(2027, 9, 16)),
        ("reminder-0", D(2027, 9, 30)),
        ("overdue", D(2027, 10, 1)),
        ("escalation", D(2027, 10, 7)),
    ),
    "27a-voice": (
        ("reminder-10", D(2027, 9, 16)),
        ("reminder-0", D(2027, 9, 30)),
        ("overdue", D(2027, 10, 1)),
        ("escalation", D(2027, 10, 7)),
    ),
    "27a-city": (("reminder-10", D(2027, 10, 15)),),  # done on 18 October, before its due date
    "27b-think": (
        ("reminder-10", D(2028, 2, 14)),
        ("reminder-0", D(2028, 2, 28)),
        ("overdue", D(2028, 2, 29)),
        ("escalation", D(2028, 3, 6)),
    ),
    "27b-voice": (("reminder-10", D(2028, 3, 17)), ("reminder-0", D(2028, 3, 31))),
}
CLOSED_BEFORE_ANY_STEP = ("h1-fathers", "h1-health", "27a-police")
OPEN = ("open", "in_progress")  # still to be done
FOLLOW_UP_KINDS = ("action_reminder", "action_escalation", "action_digest")


@pytest.fixture
def sim(uow: UnitOfWork, renderer: BriefingRenderer) -> Simulation:
    return two_years(uow, renderer)


def keys(sim: Simulation) -> dict[int, str]:
    return {action_id: key for key, action_id in sim.action_ids.items()}


def action_plan(key: str) -> ActionPlan:
    return next(a for a in ACTIONS if a.key == key)


def recipient(config: BoardConfig, key: str, step: str) -> str:
    """The owner of the action; for an escalation, the lead of the owner's agency."""
    owner = next(p for p in config.auditors if p.id == action_plan(key).owner)
    return config.agency(owner.agency).lead.email if step == "escalation" else owner.email


def expected_steps(config: BoardConfig, escalations: bool) -> list[tuple[dt.date, str, str, str]]:
    return sorted(
        (on, key, step, recipient(config, key, step))
        for key, steps in FOLLOWED_UP.items()
        for step, on in steps
        if (step == "escalation") == escalations
    )


def follow_up_messages(session: Session) -> list[OutboxMessage]:
    return list(
        session.scalars(select(OutboxMessage).where(OutboxMessage.kind.in_(FOLLOW_UP_KINDS)))
    )


def queued_on(message: OutboxMessage) -> dt.date:
    return message.queued_at.astimezone(LONDON).date()


# --- the follow-up -------------------------------------------------------------------------


def test_each_owner_is_reminded_once_for_each_step_on_its_working_day(
    sim: Simulation, config: BoardConfig, session: Session
) -> None:
    named = keys(sim)
    reminded = sorted(
        (r.today, named[f.action_id], f.step, f.to_email)
        for r in sim.follow_ups
        for f in r.reminders
    )

    assert reminded == expected_steps(config, escalations=False)
    assert not [r.waiting for r in sim.follow_ups if r.waiting]
    emails = Counter(
        (queued_on(m), *m.recipients)
        for m in follow_up_messages(session)
        if m.kind == "action_reminder"
    )
    # one email to each owner on each day a step of theirs fell, and no other
    assert sorted(emails) == sorted({(on, to) for on, _, _, to in reminded})
    assert set(emails.values()) == {1}


def test_each_late_action_is_escalated_once_to_the_lead_of_its_owner_s_agency(
    sim: Simulation, config: BoardConfig, session: Session
) -> None:
    named = keys(sim)
    escalated = sorted(
        (r.today, named[f.action_id], f.step, f.to_email)
        for r in sim.follow_ups
        for f in r.escalations
    )

    assert escalated == expected_steps(config, escalations=True)
    kept = session.scalars(select(ActionChaseStep).where(ActionChaseStep.step == "escalation"))
    assert sorted((s.taken_on, named[s.action_id], s.to) for s in kept) == [
        (on, key, to) for on, key, _, to in escalated
    ]
    leads = [m for m in follow_up_messages(session) if m.kind == "action_escalation"]
    assert sorted((queued_on(m), *m.recipients) for m in leads) == [
        (on, to) for on, _, _, to in escalated
    ]
    # the police's lead, of 2026-H1's action in October 2026 and of 2027-H2's in March 2028
    assert [on for on, _, _, to in escalated if to == "priya.raghunathan@example.org"] == [
        D(2026, 10, 7),
        D(2028, 3, 6),
    ]


def test_nothing_is_sent_for_an_action_once_it_is_closed_and_no_email_goes_twice(
    sim: Simulation, session: Session
) -> None:
    named = keys(sim)
    steps = list(session.scalars(select(ActionChaseStep)))
    closed_on = {
        a.key: m.when.date() for a in ACTIONS for m in a.moves if m.status in ("done", "dropped")
    }

    assert not [s for s in steps if named[s.action_id] in CLOSED_BEFORE_ANY_STEP]
    assert not [s for s in steps if s.taken_on >= closed_on.get(named[s.action_id], D.max)]
    taken = [(f.action_id, f.step, f.due_on) for r in sim.follow_ups for f in r.taken]
    assert len(taken) == len(set(taken)) == len(steps) == sum(map(len, FOLLOWED_UP.values()))
    queued = [message_id for r in sim.follow_ups for message_id in r.messages]
    messages = follow_up_messages(session)
    assert sorted(queued) == sorted(m.id for m in messages)
    sent = Counter((m.kind, queued_on(m), *m.recipients) for m in messages)
    assert set(sent.values()) == {1}


def digest_days() -> list[tuple[dt.date, dt.date]]:
    """(sent on, the digest's day): each week's first working day (its Monday, or the
    Tuesday after a bank holiday Monday), from the week the action plan began. That week's
    digest day, Tuesday 26 May 2026 after the spring bank holiday, came before the first
    actions (Thursday 28 May): its digest goes at the next day's follow-up."""
    days: list[tuple[dt.date, dt.date]] = [(D(2026, 5, 29), D(2026, 5, 26))]
    for working in working_days(D(2026, 6, 1)):
        if days[-1][0].isocalendar()[:2] != working.isocalendar()[:2]:
            days.append((working, working))
    return days


def test_the_action_plan_s_digest_goes_once_each_week_from_the_first_action_on(
    sim: Simulation, session: Session
) -> None:
    sent = [(r.today, r.digest.day) for r in sim.follow_ups if r.digest_sent and r.digest]

    assert sent == digest_days()
    assert (D(2026, 8, 31), D(2026, 8, 31)) not in sent  # the summer bank holiday: Tuesday
    assert (D(2027, 12, 29), D(2027, 12, 29)) in sent  # Christmas and Boxing Day moved to Mon, Tue
    assert len([m for m in follow_up_messages(session) if m.kind == "action_digest"]) == len(sent)
    [after_easter] = [r.digest for r in sim.follow_ups if r.today == D(2027, 4, 5)]
    assert after_easter is not None
    named = keys(sim)
    # 2026-H2's action was due on 31 March, the last day of 2026-27: overdue in 2027-28
    assert [named[row["action_id"]] for row in after_easter.overdue] == ["h2-fathers"]


# --- the briefings -------------------------------------------------------------------------


def test_each_briefing_reports_the_earlier_actions_still_open_or_closed_since_the_last_one(
    sim: Simulation, uow: UnitOfWork
) -> None:
    by_text = {a.text: a.key for a in ACTIONS}
    for round_id, drafted in sim.briefings.items():  # as drafted, so approved and issued
        issued = briefings.show(uow, "hackney", parse_scope([round_id]))
        assert (issued.status, issued.approved_by) == ("issued", "bob")
        assert issued.content.actions == drafted.content.actions

    def reported(round_id: str) -> list[tuple[str, str, str]]:
        content = sim.briefings[round_id].content
        return [(by_text[a.text], a.status, a.rag) for a in content.actions]

    assert reported("2026-H1") == []
    # issued 9 December 2026; the health visitors' action was done on 1 June, before
    # 2026-H1's own briefing of 10 June, which reports only on earlier rounds: so here
    assert reported("2026-H2") == [
        ("h1-fathers", "done", "green"),
        ("h1-health", "done", "green"),
        ("h1-voice", "in_progress", "red"),
    ]
    # issued 16 June 2027; the fathers' prompt of 2026-H1 was reported done in December
    assert reported("2027-H1") == [
        ("h1-voice", "done", "green"),
        ("h2-fathers", "in_progress", "green"),
    ]
    assert sim.briefings["2027-H1"].content.actions[1].due_on == "30 September 2027"
    # issued 8 December 2027: the City's action is not Hackney's
    assert reported("2027-H2") == [
        ("h2-fathers", "done", "green"),
        ("27a-fathers", "done", "green"),
        ("27a-voice", "open", "red"),
        ("27a-police", "dropped", ""),
    ]


# --- recurring themes ----------------------------------------------------------------------


def lessons(session: Session, round_id: str) -> dict[str, bool]:
    rows = session.scalars(
        select(Finding).where(Finding.round_id == round_id, Finding.kind == FindingKind.LESSON)
    )
    return {f.theme_id: f.recurring for f in rows}


def test_a_lesson_theme_of_consecutive_rounds_is_flagged_and_one_that_skipped_a_round_is_not(
    sim: Simulation, uow: UnitOfWork, session: Session
) -> None:
    assert lessons(session, "2026-H2") == {"engaging-fathers": True}
    # the voice of the child was a lesson of 2026-H1 but not of 2026-H2; information
    # sharing is the City's, whose round before was 2026-H1
    assert lessons(session, "2027-H1") == {
        "engaging-fathers": True,
        "voice-of-the-child": False,
        "information-sharing": False,
    }
    # Think Family was a lesson of 2026-H1 in the City, never in Hackney
    assert lessons(session, "2027-H2") == {"voice-of-the-child": True, "think-family": False}
    collated = {
        r.round_id: collate(at(uow, day(2028, 3, 31, 17)), r.round_id).recurring
        for r in (life.plan for life in ROUNDS)
    }
    flagged = {
        rid: [(r.area_id, r.previous_round_id, [t for t, _ in r.themes]) for r in found]
        for rid, found in collated.items()
    }
    assert flagged == {
        "2026-H1": [],
        "2026-H2": [("hackney", "2026-H1", ["engaging-fathers"])],
        "2027-H1": [("city", "2026-H1", []), ("hackney", "2026-H2", ["engaging-fathers"])],
        "2027-H2": [("hackney", "2027-H1", ["voice-of-the-child"])],
    }


# --- the year's reports, counted from the plans ----------------------------------------------


def area_of(plan: RoundPlan, reference: str) -> str:
    return next(c.area for c in plan.cases if c.reference == reference)


def answers_in(plan: RoundPlan, area: str | None) -> list[Answer]:
    return [a for a in plan.answers if area in (None, area_of(plan, a.reference))]


def year_lives(year: str, area: str | None) -> list[RoundLife]:
    first = D(int(year[:4]), 4, 1)
    last = D(first.year + 1, 3, 31)
    return [
        life
        for life in ROUNDS
        if first <= life.plan.launched.date() <= last
        and area in (None, *(c.area for c in life.plan.cases))
    ]


def round_row(config: BoardConfig, life: RoundLife, area: str | None, on: dt.date) -> RoundRow:
    plan = life.plan
    areas = tuple(sorted({c.area for c in plan.cases}))
    # only Hackney's briefings are issued: a round with the City's cases stays at its briefing
    closed = areas == ("hackney",) and life.briefing_issued.date() <= on
    cases = [c for c in plan.cases if area in (None, c.area)]
    return RoundRow(
        plan.round_id,
        config.focus(plan.focus).name,
        plan.launched.date(),
        "closed" if closed else "briefing",
        areas if area is None else (area,),
        len(cases),
        sum(len(c.auditors) for c in cases),
        sum(1 for a in answers_in(plan, area) if a.submitted),
    )


def chase_row(plan: RoundPlan, area: str | None) -> ChaseRow:
    """On time by the due date, late, never; escalated when not in by the chase sweep on
    the first escalation's day."""
    answers = answers_in(plan, area)
    came = [a.submitted.date() for a in answers if a.submitted]
    swept = plan.chase_days[0]
    return ChaseRow(
        plan.round_id,
        audits=len(answers),
        on_time=sum(1 for on in came if on <= plan.due_on),
        late=sum(1 for on in came if on > plan.due_on),
        not_in=len(answers) - len(came),
        escalated=sum(1 for a in answers if a.submitted is None or a.submitted > swept),
    )


def mean_score(config: BoardConfig, plan: RoundPlan, area: str | None) -> float:
    scores = {g.id: g.score for g in config.scale.grades}
    given = [scores[a.grade] for a in answers_in(plan, area) if a.submitted]
    return round(sum(given) / len(given), 2)


def lesson_themes(plan: RoundPlan, area: str | None) -> Counter[str]:
    return Counter(t for a in answers_in(plan, area) if a.submitted for t, _ in a.lessons)


def well_established(lives: list[RoundLife], area: str | None) -> set[tuple[str, str]]:
    """Each round's lesson themes that were lessons of the area's round before it too."""
    found = set()
    for life in lives:
        plan = life.plan
        for where in {c.area for c in plan.cases if area in (None, c.area)}:
            before = [r.plan for r in ROUNDS if r.plan.launched < plan.launched]
            before = [p for p in before if where in {c.area for c in p.cases}]
            if before:
                again = set(lesson_themes(plan, where)) & set(lesson_themes(before[-1], where))
                found |= {(plan.round_id, theme) for theme in again}
    return found


def standing(key: str, on: dt.date) -> tuple[str, dt.date]:
    """The action's status and due date at the end of ``on``."""
    action = action_plan(key)
    status, due_on = "open", action.due_on
    for move in action.moves:
        if move.when.date() <= on:
            status, due_on = move.status, move.due_on or due_on
    return status, due_on


def action_area(key: str) -> str:
    """The area of the case whose return gave the action's lesson."""
    action = action_plan(key)
    plan = next(r.plan for r in ROUNDS if r.plan.round_id == action.round_id)
    return next(
        area_of(plan, a.reference)
        for a in plan.answers
        if action.theme in (theme for theme, _ in a.lessons)
    )


def actions_by_agency(
    config: BoardConfig, on: dt.date, year: str, area: str | None
) -> tuple[AgencyActions, ...]:
    """The actions of the year's rounds (of the area's cases) by their owner's agency, as
    they stand at the end of ``on``."""
    rounds = {r.plan.round_id for r in year_lives(year, area)}
    counts: dict[str, Counter[str]] = {}
    for action in ACTIONS:
        if action.round_id not in rounds or area not in (None, action_area(action.key)):
            continue
        agency = next(p.agency for p in config.auditors if p.id == action.owner)
        status, due_on = standing(action.key, on)
        count = counts.setdefault(agency, Counter())
        count["total"] += 1
        count[status] += 1
        count["overdue"] += status in OPEN and due_on < on
    made = [
        AgencyActions(
            agency,
            config.agency(agency).name,
            c["total"],
            c["done"],
            c["open"] + c["in_progress"],
            c["overdue"],
            c["dropped"],
        )
        for agency, c in counts.items()
    ]
    return tuple(sorted(made, key=lambda a: a.agency_name.casefold()))


def test_each_year_report_gives_the_figures_of_its_own_rounds_as_they_stood_on_its_day(
    sim: Simulation, config: BoardConfig
) -> None:
    for when, year, area in REPORTS:
        on, said = when.date(), (when.date(), year, area)
        report, lives = sim.reports[said], year_lives(year, area)

        assert report.rounds == tuple(round_row(config, r, area, on) for r in lives), said
        assert report.chase == tuple(chase_row(r.plan, area) for r in lives), said
        means = tuple(mean_score(config, r.plan, area) for r in lives)
        assert {s.means for s in report.sections} == {means}, said
        counted = [lesson_themes(r.plan, area) for r in lives]
        assert {t.theme_id: t.counts for t in report.lessons} == {
            theme: tuple(c[theme] for c in counted) for theme in set().union(*counted)
        }, said
        recurring = {(w.round_id, w.theme_id) for w in report.well_established}
        assert recurring == well_established(lives, area), said
        assert report.actions == actions_by_agency(config, on, year, area), said
    hackney_csc = "Hackney Children and Families Service"
    # 2026-H2's action, due on 31 March 2027 and escalated on 7 April, is counted by
    # 2026-27's report: overdue in April 2027, done a year later
    first = sim.reports[(D(2027, 4, 8), "2026-27", "hackney")]
    assert first.actions[0] == AgencyActions("hackney-csc", hackney_csc, 2, 1, 1, 1, 0)
    again = sim.reports[(D(2028, 3, 31), "2026-27", "hackney")]
    assert again.actions[0] == AgencyActions("hackney-csc", hackney_csc, 2, 2, 0, 0, 0)
    latest = sim.reports[(D(2028, 3, 31), "2027-28", "hackney")]
    assert latest.round_ids == ("2027-H1", "2027-H2")
    assert latest.totals["actions"] == 5 and latest.totals["actions_dropped"] == 1
    assert latest.totals["actions_overdue"] == 2  # health visiting's since October, the police's
    assert [(w.round_id, w.theme_id) for w in latest.well_established] == [
        ("2027-H1", "engaging-fathers"),  # from 2026-H2, in the year before
        ("2027-H2", "voice-of-the-child"),
    ]
