"""Between the rehearsal's two rounds: actions on the first round's lessons, followed up.

The day after the first round's briefings, the business unit makes an action from each
lesson that went forward (``auditround actions add``), and each owner is emailed the link
to their action's page. Over the summer, in the order of their days:

- owners record progress on their page, over HTTP as a browser would (examples/owners.py);
- the business unit drops one action that a new protocol has overtaken;
- ``auditround actions follow-up`` runs at 08:30 on each day the follow-up has something to
  do (a reminder before a due date, the overdue reminder, the escalation to the agency's
  lead) and on the first digest day: one action is due at the end of August and nobody
  records anything on it, so it is chased to its escalation.

By the next round, the Hackney and City briefings have earlier actions to report on: one
done, one dropped, one overdue, two still in progress or open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from examples.demo_cli import at, console, run, run_flow
from examples.demo_round import ZONE, DemoRound

if TYPE_CHECKING:
    from audit_core.adapters.smtp_sink import Sink
    from audit_core.bootstrap import App
    from examples.owners import Owners


@dataclass(frozen=True)
class DemoAction:
    """An action on the lesson of ``theme``, by its owner (a person of people.yaml)."""

    theme: str
    owner: str
    address: str
    text: str
    measure: str
    due_on: dt.date | None = None  # None: the board's default (cadence.actions_due_months)


ACTIONS = (
    DemoAction(
        "engaging-fathers",
        "amara-bello",
        "amara.bello@example.org",
        "Add a prompt about fathers and other significant adults to the assessment template.",
        "A dip sample of assessments shows the father's view recorded in most of them.",
        dt.date(2027, 1, 29),
    ),
    DemoAction(
        "information-sharing",
        "kofi-asamoah",
        "kofi.asamoah@example.org",
        "Tell the family's GP practice within a working day whenever a child's plan changes.",
        "The next round's GP returns find the practice told of every change of plan.",
        dt.date(2026, 8, 28),
    ),
    DemoAction(
        "silent-child",
        "eleanor-ashdown",
        "eleanor.ashdown@example.org",
        "Ask in supervision about each child of a family in turn, not only the one referred.",
        "Supervision records show each sibling discussed by name.",
        dt.date(2026, 9, 30),
    ),
    DemoAction(
        "escalation-and-challenge",
        "oliver-pemberton",
        "oliver.pemberton@example.org",
        "Remind officers how to escalate a disagreement over a threshold decision.",
        "Escalations are logged and each is resolved within the protocol's time.",
    ),
    DemoAction(
        "domestic-abuse-safety-planning",
        "fatima-el-amin",
        "fatima.el-amin@example.org",
        "Check at each visit that the family's safety plan is part of the child's plan.",
        "Audited health visiting records refer to the safety plan wherever there is one.",
        dt.date(2027, 3, 31),
    ),
)

# What the owners record on their pages: (day, owner's address, status, note, evidence).
UPDATES = (
    (
        dt.date(2026, 7, 15),
        "amara.bello@example.org",
        "in_progress",
        "The prompt is drafted with the practice leads and goes to the next practice forum.",
        "",
    ),
    (
        dt.date(2026, 7, 20),
        "eleanor.ashdown@example.org",
        "in_progress",
        "Supervision now asks about each child in turn; the team has been briefed.",
        "",
    ),
    (
        dt.date(2026, 9, 18),
        "eleanor.ashdown@example.org",
        "done",
        "A dip sample of twelve supervision records found each sibling discussed by name.",
        "https://chscp.example.org/learning/supervision-dip-sample",
    ),
    (
        dt.date(2026, 9, 30),
        "amara.bello@example.org",
        "in_progress",
        "The prompt is being tested by two teams and goes live after the system upgrade.",
        "",
    ),
)
DROPPED = (
    dt.date(2026, 9, 7),
    "escalation-and-challenge",
    "Overtaken by the partnership's new escalation protocol, which covers the same ground.",
)


def act_on_lessons(first: DemoRound, app: App) -> dict[str, int]:
    """An action on each lesson of the first round; the action ids by theme."""
    from audit_core.services import actions

    made_on = at(_made_on(first), "10:00")
    run(
        "The lessons the audit day sent forward, to act on",
        ["--now", made_on, "actions", "lessons", "--round", first.period],
    )
    with app.unit_of_work() as uow:
        lessons = {v.theme_id: v.id for v in actions.lessons_to_act_on(uow, first.period)}
    for action in ACTIONS:
        due = ["--due", action.due_on.isoformat()] if action.due_on else []
        what = ["--text", action.text, "--measure", action.measure, *due]
        lesson = str(lessons[action.theme])
        run(
            f"An action on the lesson about {action.theme.replace('-', ' ')}",
            [
                "--now",
                made_on,
                "actions",
                "add",
                "--lesson",
                lesson,
                "--owner",
                action.owner,
                *what,
            ],
        )
    with app.unit_of_work() as uow:
        return {v.theme_id: v.id for v in actions.list_actions(uow)}


def _made_on(first: DemoRound) -> dt.date:
    from audit_core.domain.workdays import next_working_day

    return next_working_day(first.timeline.briefing_due_on)


def follow_up_days(first: DemoRound, until: dt.date, app: App) -> list[dt.date]:
    """The days the follow-up has a step to take before ``until``, and the first digest day."""
    from audit_core.domain.action_follow_up import WEEKDAYS, follow_up_steps

    policy = app.config().cadence.action_follow_up
    days = {
        step.on
        for action in ACTIONS
        if action.due_on is not None
        for step in follow_up_steps(action.due_on, policy)
        if step.on < until
    }
    digest = _made_on(first) + dt.timedelta(days=1)
    while digest.weekday() != WEEKDAYS.index(policy.digest_weekday):
        digest += dt.timedelta(days=1)
    return sorted(days | {digest})


def between_rounds(first: DemoRound, second: DemoRound, sink: Sink) -> None:
    """Actions made, updated by their owners, dropped, and followed up until the next round."""
    from audit_core.bootstrap import App
    from examples.auditors import Clock, portal
    from examples.owners import Owners

    clock = Clock(dt.datetime.combine(_made_on(first), dt.time(10), ZONE))
    app = App(clock=clock)
    made = act_on_lessons(first, app)
    with portal(app) as base:
        owners = Owners(base, lambda: sink.messages)
        for when, step in sorted(_steps(first, second, app, made, owners), key=lambda s: s[0]):
            clock.now = dt.datetime.fromisoformat(when).replace(tzinfo=ZONE)
            step(when)
        owners.close()
    app.close()
    run(
        "The action plan before the next round",
        ["--now", at(second.plan_on, "08:00"), "actions", "list"],
    )


Step = Callable[[str], None]  # what happens at the time given (as --now takes it)


def _steps(
    first: DemoRound, second: DemoRound, app: App, made: dict[str, int], owners: Owners
) -> list[tuple[str, Step]]:
    """Everything that happens between the rounds, each with its time."""
    steps: list[tuple[str, Step]] = [
        (at(day, "08:30"), _follow_up) for day in follow_up_days(first, second.plan_on, app)
    ]
    steps += [(at(day, "14:00"), _update(owners, *update)) for day, *update in UPDATES]
    steps.append((at(DROPPED[0], "11:00"), _drop(made[DROPPED[1]], DROPPED[2])))
    return steps


def _follow_up(when: str) -> None:
    from flows.follow_up_actions import follow_up_actions

    run_flow(f"{_day(when)}, 08:30: the follow-up of actions", follow_up_actions, now=when)


def _drop(action_id: int, reason: str) -> Step:
    def drop(when: str) -> None:
        run(
            f"{_day(when)}: the business unit drops an action",
            ["--now", when, "actions", "close", str(action_id), "--drop", "--reason", reason],
        )

    return drop


def _update(owners: Owners, address: str, status: str, note: str, evidence: str) -> Step:
    def update(when: str) -> None:
        owners.record(address, status, note, evidence)
        console.rule(f"[bold]{_day(when)}: an owner records progress on their page")
        console.print(f"{address}: {status.replace('_', ' ')}. {note}")

    return update


def _day(when: str) -> str:
    return f"{dt.datetime.fromisoformat(when):%A %d %B}"
