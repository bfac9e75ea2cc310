"""One audit round of the rehearsal, from planning to its issued briefings.

:func:`rehearse_round` runs a round as the business unit would over its weeks: plan,
launch on the planned day, the fieldwork (the simulated auditors answering through the
portal while the chase runs on each of its days), the returns locked and collated, the
audit day recorded from its sheet, and each area's briefing drafted, approved by a
second person and issued. The dates come from the launch date and the board's cadence,
as the software works them out.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from examples.demo_cli import OUT, at, console, run, run_flow

if TYPE_CHECKING:
    from audit_core.adapters.smtp_sink import Received, Sink
    from audit_core.domain.policy import Cadence
    from audit_core.domain.workdays import Timeline

AREAS = ("hackney", "city")
ZONE = ZoneInfo("Europe/London")
# What the simulated auditors do before each chase day's 08:00 run, by the day's place
# among the chase days: early (the first reminder), on the deadline, after the first escalation.
STAGES = {0: "early", 1: "due", 3: "late"}


@dataclass(frozen=True)
class DemoRound:
    """A round of the rehearsal: its period, focus, the day it is planned and launched."""

    period: str
    focus: str
    focus_name: str
    plan_on: dt.date  # the working day before the launch
    launch_on: dt.date
    seed: int

    @cached_property
    def timeline(self) -> Timeline:
        """The round's dates, from its launch date and the board's cadence."""
        from audit_core.domain.workdays import round_timeline

        return round_timeline(self.launch_on, _cadence())

    @cached_property
    def chase_days(self) -> list[dt.date]:
        """The working days on which the cadence has something to send for this round."""
        from audit_core.domain.chasing import chase_steps

        return [step.on for step in chase_steps(self.timeline.due_on, _cadence())]

    @property
    def closes_on(self) -> dt.date:
        """The day of the last chase, after which the returns close."""
        return self.chase_days[-1]


def _cadence() -> Cadence:
    from audit_core.adapters.config import load_config

    return load_config(Path(os.environ["AUDITROUND_CONFIG"])).cadence


def rehearse_round(rnd: DemoRound, sink: Sink) -> None:
    """The round from its plan to its issued briefings."""
    received = len(sink.messages)  # the round's task emails are those that come after
    plan_and_launch(rnd)
    rehearse_fieldwork(rnd, sink.messages[received:])
    run(
        "After the last escalation: the returns close and the round moves to moderation",
        ["--now", at(rnd.closes_on, "17:00"), "round", "lock", rnd.period],
    )
    from flows.collate_round import collate_round

    run_flow(
        "The returns collated for the audit day",
        collate_round,
        round_id=rnd.period,
        now=at(rnd.closes_on, "17:00"),
    )
    audit_day_and_briefings(rnd)


def plan_and_launch(rnd: DemoRound) -> None:
    from flows.launch_round import launch_due_rounds
    from flows.plan_round import plan_round_flow

    run_flow(
        f"{rnd.period}: plan a {rnd.focus_name} round across Hackney and the City",
        plan_round_flow,
        period=rnd.period,
        focus=rnd.focus,
        areas=list(AREAS),
        seed=rnd.seed,
        now=at(rnd.plan_on, "09:00"),
    )
    run(
        "Review the plan before launch",
        ["--now", at(rnd.plan_on, "09:30"), "round", "show", rnd.period],
    )
    launching = at(rnd.launch_on, "09:00")
    run_flow(
        "Launch day, 09:00: the round opens and the task emails go through the outbox",
        launch_due_rounds,
        now=launching,
    )
    run("The outbox after dispatch", ["--now", launching, "outbox", "status"])


def rehearse_fieldwork(rnd: DemoRound, messages: list[Received]) -> None:
    """The auditors answer through the portal (examples/auditors.py) while the chase runs on
    each of its days; a second run the same afternoon shows that nothing goes twice."""
    from audit_core.bootstrap import App
    from examples.auditors import Auditors, Clock, portal, tasks_in
    from flows.chase_returns import chase_returns

    days = rnd.chase_days
    clock = Clock(dt.datetime.combine(days[0], dt.time(7, 30), ZONE))
    app = App(clock=clock)
    with portal(app) as base:
        auditors = Auditors(app.config(), base, tasks_in(messages), rnd.focus)
        console.print(f"[dim]The portal is serving the auditors' links at {base}.[/]")
        for index, day in enumerate(days):
            if index in STAGES:
                clock.now = dt.datetime.combine(day, dt.time(7, 30), ZONE)
                done = auditors.visit(STAGES[index])
                console.rule(f"[bold]{day:%A %d %B}, before 08:00: the auditors, in the portal")
                console.print(", ".join(f"{n} {what}" for what, n in sorted(done.items())))
            if index == len(days) - 2:
                run(
                    "Fieldwork: what the chase would send today",
                    ["--now", f"{day}T08:00", "chase", "--dry-run"],
                )
            run_flow(
                f"Fieldwork, {day:%A %d %B}: the day's chase", chase_returns, now=at(day, "08:00")
            )
        auditors.close()
    app.close()
    run_flow(
        "The same day again, in the afternoon: nothing is sent twice",
        chase_returns,
        now=at(days[-1], "16:00"),
    )


def audit_day_and_briefings(rnd: DemoRound) -> None:
    """The audit day recorded from its sheet, then each area's briefing drafted, approved
    by a second person and issued: the files under out/, the email through the outbox."""
    from examples.audit_day import fill_in
    from flows.issue_briefing import issue_briefing

    dates = rnd.timeline
    audit_day, issue_day = at(dates.audit_day_on, "10:00"), at(dates.briefing_due_on, "10:00")
    sheet = OUT / f"audit-day-{rnd.period}.yaml"
    run(
        "Before the audit day: the sheet to fill in, from the returns",
        ["--now", audit_day, "round", "moderate", rnd.period, str(sheet), "--start"],
    )
    fill_in(sheet)
    console.print(f"[dim]The meeting fills in {sheet}: grades, key findings, summaries.[/]")
    run(
        "The audit day recorded: the round moves to its briefing",
        ["--now", audit_day, "round", "moderate", rnd.period, str(sheet)],
    )
    for area in AREAS:
        scope = ["--area", area, "--round", rnd.period]
        run(f"The {area} briefing drafted", ["--now", issue_day, "briefing", "draft", *scope])
        run(
            f"The {area} briefing approved by a second person",
            ["--now", issue_day, "--as", "demo:quality-lead", "briefing", "approve", *scope],
        )
        run_flow(
            f"The {area} briefing issued",
            issue_briefing,
            area=area,
            rounds=[rnd.period],
            out=str(OUT),
            now=issue_day,
        )
