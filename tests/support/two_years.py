"""Two board years of audits, 2026-27 and 2027-28, run day by day with a fixed clock.

:func:`two_years` builds every step of the two years as a dated step and runs them all in
the order of their times, committing after each, as the business unit, the auditors, the
owners of actions and the scheduler would have done them:

- four rounds (:data:`ROUNDS`), each planned and launched, its returns submitted through
  the return form's use case (some on time, one late, one never), the chase sweep on the
  day of the first escalation (two working days after the due date: the late and the
  missing returns are escalated to their agency leads), and its audit day recorded
  (:func:`support.year_rounds.record_day`, every finding sent forward);
- the working day after each audit day, actions made from the round's lessons
  (:data:`ACTIONS`), then updated, closed or dropped on their days;
- Hackney's briefing of each round drafted by alice, approved by bob and issued, with the
  real renderer;
- the action follow-up at 08:30 on every working day of the two years;
- the year's report (:data:`REPORTS`) on its day, after that day's follow-up.

The rounds (the City's cases only in the first and third):

- **2026-H1**, Think Family (:data:`support.year_rounds.H1`), launched Monday 13 April
  2026, due Monday 11 May, escalations on 13 May, audit day Wednesday 27 May: lessons on
  engaging fathers and the voice of the child in Hackney, Think Family in the City.
- **2026-H2**, Early help (:data:`support.year_rounds.H2` with a second Hackney case),
  launched Monday 5 October 2026, due Monday 2 November, escalations on 4 November, audit
  day Monday 16 November: a lesson on engaging fathers again.
- **2027-H1**, Neglect and parental mental health, launched Monday 12 April 2027, due
  Tuesday 11 May, escalations on 13 May, audit day Tuesday 25 May: lessons on engaging
  fathers (a third round running) and the voice of the child (back after a round
  without it) in Hackney, information sharing in the City.
- **2027-H2**, Looked after children, launched Monday 4 October 2027, due Monday 1
  November, escalations on 3 November, audit day Monday 15 November: lessons on the voice
  of the child (again) and Think Family (new in Hackney).

Hackney's briefings are issued on 10 June 2026, 9 December 2026, 16 June 2027 and
8 December 2027. One action of 2026-H2 (``h2-fathers``) is still open when 2026-27 ends:
it is escalated in April 2027, given a new due date and done in September 2027.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from audit_core.domain.briefing_scope import parse_scope
from audit_core.domain.workdays import is_working_day
from audit_core.domain.year_report import YearReport
from audit_core.services import actions, briefings
from audit_core.services.action_follow_up import FollowUpReport, follow_up
from audit_core.services.briefings import BriefingVersion
from audit_core.services.chase import sweep
from audit_core.services.ports import BriefingRenderer
from audit_core.services.unit_of_work import UnitOfWork
from audit_core.services.year_report import year_report
from support import LONDON
from support.rounds import CaseSpec
from support.year_rounds import (
    H1,
    H2,
    Answer,
    RoundPlan,
    at,
    day,
    launch_plan,
    lesson_id,
    record_day,
    submit_answer,
)

FIRST_DAY, LAST_DAY = dt.date(2026, 4, 1), dt.date(2028, 3, 31)
FOLLOW_UP_AT = dt.time(8, 30)

H2_2026 = dataclasses.replace(
    H2,
    cases=(
        *H2.cases,
        CaseSpec("HK-00778", "hackney", {"met-police": "daniel-costa", "gp": "kofi-asamoah"}),
    ),
    answers=(
        *H2.answers,
        Answer("HK-00778", "met-police", "good", day(2026, 11, 5)),
        Answer("HK-00778", "gp", "good", None),
    ),
    chase_days=(day(2026, 11, 4, 8),),
)
H1_2027 = RoundPlan(
    round_id="2027-H1",
    focus="neglect-mental-health",
    cases=(
        CaseSpec(
            "HK-00901",
            "hackney",
            {"hackney-csc": "rukhsana-begum", "health-visiting": "joanna-kaminska"},
        ),
        CaseSpec(
            "HK-00902", "hackney", {"met-police": "hannah-greenberg", "probation": "dev-chaudhary"}
        ),
        CaseSpec("CL-00317", "city", {"city-cft": "kwabena-owusu"}),
    ),
    launched=day(2027, 4, 12, 9),
    due_on=dt.date(2027, 5, 11),
    answers=(
        Answer(
            "HK-00901",
            "hackney-csc",
            "good",
            day(2027, 4, 19),
            lessons=(("engaging-fathers", "The father's views were not sought for the plan."),),
        ),
        Answer(
            "HK-00901",
            "health-visiting",
            "inadequate",
            day(2027, 4, 26),
            lessons=(("voice-of-the-child", "The child was never seen alone."),),
        ),
        Answer("HK-00902", "met-police", "requires-improvement", day(2027, 5, 17)),
        Answer("HK-00902", "probation", "good", None),
        Answer(
            "CL-00317",
            "city-cft",
            "outstanding",
            day(2027, 4, 21),
            lessons=(("information-sharing", "The school was not told of the plan."),),
        ),
    ),
    chase_days=(day(2027, 5, 13, 8),),
    audit_day=day(2027, 5, 25),
)
H2_2027 = RoundPlan(
    round_id="2027-H2",
    focus="looked-after-children",
    cases=(
        CaseSpec(
            "HK-01005",
            "hackney",
            {"hackney-csc": "tomasz-wierzbicki", "met-police": "sarah-chukwuma"},
        ),
        CaseSpec(
            "HK-01006", "hackney", {"health-visiting": "fatima-el-amin", "gp": "mei-lin-zhou"}
        ),
    ),
    launched=day(2027, 10, 4, 9),
    due_on=dt.date(2027, 11, 1),
    answers=(
        Answer(
            "HK-01005",
            "hackney-csc",
            "outstanding",
            day(2027, 10, 11),
            strengths=(
                ("multi-agency-working", "one shared plan", "Every agency worked to one plan."),
            ),
            lessons=(("voice-of-the-child", "The child's wishes were not written in the plan."),),
        ),
        Answer(
            "HK-01005",
            "met-police",
            "good",
            day(2027, 10, 20),
            lessons=(("think-family", "The carers' own needs were not considered."),),
        ),
        Answer("HK-01006", "health-visiting", "requires-improvement", day(2027, 11, 5)),
        Answer("HK-01006", "gp", "good", None),
    ),
    chase_days=(day(2027, 11, 3, 8),),
    audit_day=day(2027, 11, 15),
)


@dataclass(frozen=True)
class RoundLife:
    """A round, the day its actions are made and the day Hackney's briefing of it is
    issued."""

    plan: RoundPlan
    acted_on: dt.datetime
    briefing_issued: dt.datetime


ROUNDS = (
    RoundLife(H1, day(2026, 5, 28, 11), day(2026, 6, 10, 14)),
    RoundLife(H2_2026, day(2026, 11, 17, 11), day(2026, 12, 9, 14)),
    RoundLife(H1_2027, day(2027, 5, 26, 11), day(2027, 6, 16, 14)),
    RoundLife(H2_2027, day(2027, 11, 16, 11), day(2027, 12, 8, 14)),
)


@dataclass(frozen=True)
class Move:
    """A change to an action on its day: an update (a note, perhaps a new status or due
    date), or its closing (done, or dropped with its reason)."""

    when: dt.datetime
    status: str  # in_progress | done | dropped
    note: str
    due_on: dt.date | None = None
    reason: str = ""


@dataclass(frozen=True)
class ActionPlan:
    """An action made from a round's lesson of ``theme``, and what became of it."""

    key: str
    round_id: str
    theme: str
    owner: str  # a person of people.yaml
    text: str
    due_on: dt.date
    moves: tuple[Move, ...] = ()


ACTIONS = (
    ActionPlan(
        "h1-fathers",
        "2026-H1",
        "engaging-fathers",
        "amara-bello",
        "Add a prompt on fathers and significant adults to the early help assessment.",
        dt.date(2026, 9, 30),
        (
            Move(day(2026, 7, 1), "in_progress", "The prompt is drafted with the practice leads."),
            Move(day(2026, 9, 1), "done", "The prompt is live on the assessment form."),
        ),
    ),
    ActionPlan(
        "h1-voice",
        "2026-H1",
        "voice-of-the-child",
        "sarah-chukwuma",
        "Brief every response team on recording what a child says, in the child's words.",
        dt.date(2026, 9, 30),
        (
            Move(day(2026, 6, 15), "in_progress", "Briefings are booked for the autumn."),
            Move(day(2027, 1, 15), "done", "Every response team has been briefed."),
        ),
    ),
    ActionPlan(
        "h1-health",
        "2026-H1",
        "voice-of-the-child",
        "fatima-el-amin",
        "Remind health visitors to see the children alone at each visit.",
        dt.date(2026, 8, 28),
        (Move(day(2026, 6, 1), "done", "Every health visiting team has had the reminder."),),
    ),
    ActionPlan(
        "h1-city",
        "2026-H1",
        "think-family",
        "eleanor-ashdown",
        "Ask about the parents' own needs at every assessment.",
        dt.date(2026, 11, 30),
        (Move(day(2027, 1, 29), "done", "The assessment form asks it now."),),
    ),
    ActionPlan(
        "h2-fathers",
        "2026-H2",
        "engaging-fathers",
        "tomasz-wierzbicki",
        "Train every early help team on involving fathers in the plan.",
        dt.date(2027, 3, 31),
        (
            Move(day(2027, 2, 1), "in_progress", "The training is being written."),
            Move(
                day(2027, 4, 12),
                "in_progress",
                "The training moved to the summer term.",
                due_on=dt.date(2027, 9, 30),
            ),
            Move(day(2027, 6, 1), "in_progress", "Half of the teams are trained."),
            Move(day(2027, 9, 20), "done", "Every team is trained."),
        ),
    ),
    ActionPlan(
        "27a-fathers",
        "2027-H1",
        "engaging-fathers",
        "rukhsana-begum",
        "Invite both parents to every child in need review.",
        dt.date(2027, 9, 30),
        (Move(day(2027, 11, 1), "done", "The review invitations go to both parents."),),
    ),
    ActionPlan(
        "27a-voice",
        "2027-H1",
        "voice-of-the-child",
        "joanna-kaminska",
        "See every child alone at the new birth and the two-year visits.",
        dt.date(2027, 9, 30),
    ),
    ActionPlan(
        "27a-police",
        "2027-H1",
        "voice-of-the-child",
        "hannah-greenberg",
        "Record the child's own account in every domestic abuse report.",
        dt.date(2027, 11, 26),
        (
            Move(
                day(2027, 9, 1),
                "dropped",
                "",
                reason="The new crime recording system asks for the child's account itself.",
            ),
        ),
    ),
    ActionPlan(
        "27a-city",
        "2027-H1",
        "information-sharing",
        "kwabena-owusu",
        "Send the school a copy of every child in need plan.",
        dt.date(2027, 10, 29),
        (Move(day(2027, 10, 18), "done", "Schools now get a copy of every plan."),),
    ),
    ActionPlan(
        "27b-voice",
        "2027-H2",
        "voice-of-the-child",
        "tomasz-wierzbicki",
        "Write the child's wishes in their own words in every care plan.",
        dt.date(2028, 3, 31),
    ),
    ActionPlan(
        "27b-think",
        "2027-H2",
        "think-family",
        "sarah-chukwuma",
        "Ask about the carers' own needs at every visit to a looked after child.",
        dt.date(2028, 2, 28),
    ),
)

# (when, year, area): the reports made; the first after 2026-27 has ended, the last three on
# the last day of 2027-28
REPORTS = (
    (day(2027, 4, 8, 16), "2026-27", "hackney"),
    (day(2027, 4, 8, 16), "2026-27", None),
    (day(2028, 3, 31, 16), "2026-27", "hackney"),
    (day(2028, 3, 31, 16), "2027-28", "hackney"),
    (day(2028, 3, 31, 16), "2027-28", None),
)


@dataclass
class Simulation:
    """What the two years left for the tests to read, besides the database."""

    action_ids: dict[str, int] = field(default_factory=dict)  # by ActionPlan.key
    follow_ups: list[FollowUpReport] = field(default_factory=list)  # one a working day
    briefings: dict[str, BriefingVersion] = field(default_factory=dict)  # Hackney's, by round
    reports: dict[tuple[dt.date, str, str | None], YearReport] = field(default_factory=dict)


Step = tuple[dt.datetime, Callable[[], None]]


def two_years(uow: UnitOfWork, renderer: BriefingRenderer) -> Simulation:
    """Run the two years (see the module's description) in time order; committed."""
    sim = Simulation()
    steps: list[Step] = []
    for life in ROUNDS:
        steps += _round_steps(uow, life.plan)
        steps.append((life.briefing_issued, _issuer(uow, life, renderer, sim)))
    for planned in ACTIONS:
        steps += _action_steps(uow, planned, sim)
    steps += _follow_up_steps(uow, sim)
    steps += [(when, _reporter(uow, when, year, area, sim)) for when, year, area in REPORTS]
    for _, step in sorted(steps, key=lambda s: s[0]):
        step()
        uow.session.commit()
    return sim


def acted_on(round_id: str) -> dt.datetime:
    """When the actions on the round's lessons were made."""
    return next(r.acted_on for r in ROUNDS if r.plan.round_id == round_id)


# --- the rounds ----------------------------------------------------------------------------


def _round_steps(uow: UnitOfWork, plan: RoundPlan) -> list[Step]:
    """The round launched, its returns submitted, the chase sweep, its audit day."""
    tokens: dict[tuple[str, str], str] = {}
    steps: list[Step] = [(plan.launched, lambda: tokens.update(_launch(uow, plan)))]
    for answer in plan.answers:
        if answer.submitted is not None:
            steps.append((answer.submitted, _submitter(uow, answer, tokens)))
    steps += [(when, _sweeper(uow, when)) for when in plan.chase_days]
    if plan.audit_day is not None:
        audit_day = plan.audit_day
        steps.append((audit_day, lambda: record_day(uow, plan, audit_day)))
    return steps


def _launch(uow: UnitOfWork, plan: RoundPlan) -> dict[tuple[str, str], str]:
    """The round planned (its dates its own) and launched; a token for each task."""
    return launch_plan(uow, plan)[1]


def _submitter(
    uow: UnitOfWork, answer: Answer, tokens: dict[tuple[str, str], str]
) -> Callable[[], None]:
    """Submits the answer with its task's token, known once the round has launched."""
    return lambda: submit_answer(uow, answer, tokens[(answer.reference, answer.agency)])


def _sweeper(uow: UnitOfWork, when: dt.datetime) -> Callable[[], None]:
    def chase() -> None:
        sweep(at(uow, when))

    return chase


def _issuer(
    uow: UnitOfWork, life: RoundLife, renderer: BriefingRenderer, sim: Simulation
) -> Callable[[], None]:
    """Hackney's briefing of the round: drafted by alice, approved by bob, issued."""

    def issue() -> None:
        when, scope = life.briefing_issued, parse_scope([life.plan.round_id])
        drafted = briefings.draft(
            dataclasses.replace(at(uow, when), actor="alice"), "hackney", scope
        )
        briefings.approve(dataclasses.replace(at(uow, when), actor="bob"), "hackney", scope)
        briefings.issue(at(uow, when), "hackney", scope, renderer)
        sim.briefings[life.plan.round_id] = drafted

    return issue


# --- the actions ---------------------------------------------------------------------------


def _action_steps(uow: UnitOfWork, planned: ActionPlan, sim: Simulation) -> list[Step]:
    """The action made from its lesson, then each of its moves on its day."""

    def add() -> None:
        made = actions.add(
            at(uow, acted_on(planned.round_id)),
            lesson_id=lesson_id(uow, planned.round_id, planned.theme),
            text=planned.text,
            measure="A sample of files audited again shows the change.",
            owner=planned.owner,
            due_on=planned.due_on,
        )
        sim.action_ids[planned.key] = made.id

    steps: list[Step] = [(acted_on(planned.round_id), add)]
    steps += [(m.when, _mover(uow, planned.key, m, sim)) for m in planned.moves]
    return steps


def _mover(uow: UnitOfWork, key: str, move: Move, sim: Simulation) -> Callable[[], None]:
    def change() -> None:
        now, action_id = at(uow, move.when), sim.action_ids[key]
        if move.status in ("done", "dropped"):
            done = move.status == "done"
            actions.close(now, action_id, done=done, reason=move.reason, note=move.note)
        else:
            actions.update(now, action_id, note=move.note, status=move.status, due_on=move.due_on)

    return change


# --- the follow-up and the reports ---------------------------------------------------------


def working_days(first: dt.date = FIRST_DAY, last: dt.date = LAST_DAY) -> list[dt.date]:
    """Every working day from ``first`` to ``last``, both included."""
    days = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    return [d for d in days if is_working_day(d)]


def _follow_up_steps(uow: UnitOfWork, sim: Simulation) -> list[Step]:
    """The follow-up at 08:30 on every working day of the two years."""

    def run(when: dt.datetime) -> Callable[[], None]:
        return lambda: sim.follow_ups.append(follow_up(at(uow, when)))

    days = [dt.datetime.combine(d, FOLLOW_UP_AT, LONDON) for d in working_days()]
    return [(when, run(when)) for when in days]


def _reporter(
    uow: UnitOfWork, when: dt.datetime, year: str, area: str | None, sim: Simulation
) -> Callable[[], None]:
    def report() -> None:
        sim.reports[(when.date(), year, area)] = year_report(at(uow, when), year, area)

    return report
