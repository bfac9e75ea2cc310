"""The embedded scheduler, driven by a fake clock: nothing here waits for a real schedule.

APScheduler reads the time in two places (the scheduler's step and the executor's
misfire check); both are pointed at the test's clock, and the jobs' composition root
reads it from ``AUDITROUND_NOW``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Callable, Iterator

import apscheduler.executors.base
import apscheduler.schedulers.base
import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from support import LONDON
from support.rounds import planned_round

from audit_core.adapters.smtp_sink import Sink
from audit_core.domain.models import AuditRound, RoundStatus
from audit_core.domain.policy import BoardConfig
from audit_core.scheduler import service
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database


class Clock:
    """The time every part of the scheduler sees."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 2, 8, 50, tzinfo=LONDON)

    def datetime_class(self) -> type[dt.datetime]:
        clock = self

        class FakeDatetime(dt.datetime):
            @classmethod
            def now(cls, tz: dt.tzinfo | None = None) -> FakeDatetime:  # type: ignore[override]
                return clock.now.astimezone(tz)  # type: ignore[return-value]

        return FakeDatetime


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    fake = clock.datetime_class()
    monkeypatch.setattr(apscheduler.schedulers.base, "datetime", fake)
    monkeypatch.setattr(apscheduler.executors.base, "datetime", fake)
    return clock


@pytest.fixture
def run_at(
    clock: Clock, engine: Engine, config: BoardConfig, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[dt.datetime], Counter[str]]]:
    """``run_at(moment)``: what ``auditround scheduler --once`` does at that moment; the
    jobs that ran, counted by id."""

    def run(moment: dt.datetime) -> Counter[str]:
        clock.now = moment
        monkeypatch.setenv("AUDITROUND_NOW", moment.isoformat())
        ran: Counter[str] = Counter()
        scheduler = service.build(engine, config, service.OnceScheduler, now=moment)

        def count(event: JobExecutionEvent) -> None:
            ran[event.job_id] += 1

        scheduler.add_listener(count, EVENT_JOB_EXECUTED)
        scheduler.start()
        assert isinstance(scheduler, service.OnceScheduler)
        scheduler.run_due()
        scheduler.shutdown()
        return ran

    yield run


def test_every_job_has_its_id_one_instance_coalesced_runs_and_a_grace_of_hours(
    engine: Engine, config: BoardConfig, clock: Clock
) -> None:
    for _ in range(2):  # started twice: each job is written again, not added again
        scheduler = service.build(engine, config, service.OnceScheduler, now=clock.now)
        scheduler.start()
        jobs = {job.id: job for job in scheduler.get_jobs()}
        scheduler.shutdown()
    assert sorted(jobs) == [
        "chase-returns",
        "dispatch-outbox",
        "follow-up-actions",
        "launch-rounds",
        "purge-expired-returns",
    ]
    for job in jobs.values():
        assert (job.coalesce, job.max_instances) == (True, 1)
        assert job.misfire_grace_time >= 3600
    assert str(jobs["chase-returns"].trigger.timezone) == "Europe/London"


def test_after_a_three_day_outage_each_job_runs_once_and_nothing_is_sent_twice(
    uow: UnitOfWork,
    session: Session,
    smtp_env: Sink,
    run_at: Callable[[dt.datetime], Counter[str]],
) -> None:
    planned_round(uow)  # to launch on Monday 2 March 2026 at 09:00
    session.commit()

    assert run_at(dt.datetime(2026, 3, 2, 8, 50, 30, tzinfo=LONDON)) == Counter()  # writes it down
    first = run_at(dt.datetime(2026, 3, 2, 9, 0, 30, tzinfo=LONDON))
    assert first == Counter({"launch-rounds": 1, "dispatch-outbox": 1})
    session.expire_all()
    audit_round = session.get(AuditRound, "2026-H1")
    assert audit_round is not None and audit_round.status == RoundStatus.OPEN
    launched = smtp_env.count
    assert launched == 8  # five tasks, two nomination requests, the launch summary

    # off from Monday 09:01 to Thursday 10:00: each job once, not once per missed time
    back = run_at(dt.datetime(2026, 3, 5, 10, 0, tzinfo=LONDON))
    assert back == Counter(
        {
            "launch-rounds": 1,
            "dispatch-outbox": 1,
            "chase-returns": 1,
            "follow-up-actions": 1,
            "purge-expired-returns": 1,  # missed at 05:30 on three mornings: run once
        }
    )  # the follow-up of actions runs every working day too
    again = run_at(dt.datetime(2026, 3, 5, 10, 1, 5, tzinfo=LONDON))
    assert again == Counter({"dispatch-outbox": 1})
    ids = [m.message_id for m in smtp_env.messages]
    assert len(ids) == len(set(ids)) == launched  # nothing was due for the chase yet


def fire_times(trigger: object, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    times, previous, now = [], None, start
    while True:
        fire = trigger.get_next_fire_time(previous, now)  # type: ignore[attr-defined]
        if fire is None or fire > end:
            return times
        times.append(fire)
        previous, now = fire, fire + dt.timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("label", "monday"),
    [("spring gap", dt.date(2026, 3, 23)), ("autumn fold", dt.date(2026, 10, 19))],
)
def test_across_a_clock_change_each_job_runs_once_at_its_local_hour(
    config: BoardConfig, label: str, monday: dt.date
) -> None:
    specs = {spec.id: spec for spec in service.job_specs(config)}
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=LONDON)
    end = start + dt.timedelta(days=14)  # the clocks change on the Sunday in between
    chase = fire_times(specs["chase-returns"].trigger, start, end)
    assert [t.astimezone(LONDON).strftime("%a %H:%M") for t in chase] == [
        f"{day} 08:00" for day in ("Mon", "Tue", "Wed", "Thu", "Fri") * 2
    ]
    offsets = {t.astimezone(LONDON).utcoffset() for t in chase}
    assert len(offsets) == 2  # the same local hour on both sides of the change
    follow_up = fire_times(specs["follow-up-actions"].trigger, start, end)
    assert [t.astimezone(LONDON).strftime("%a %H:%M") for t in follow_up] == [
        f"{day} 08:30" for day in ("Mon", "Tue", "Wed", "Thu", "Fri") * 2
    ]
    purge = fire_times(specs["purge-expired-returns"].trigger, start, end)
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    assert [t.astimezone(LONDON).strftime("%a %H:%M") for t in purge] == [
        f"{day} 05:30" for day in days * 2
    ]  # every day, the Sunday of the change included
    # the launches every quarter of an hour of real time, through the night of the change
    quarters = fire_times(specs["launch-rounds"].trigger, start, end)
    assert {b - a for a, b in itertools.pairwise(quarters)} == {dt.timedelta(minutes=15)}
    # the outbox every minute of real time: no minute twice, none lost
    sunday = dt.datetime.combine(monday + dt.timedelta(days=6), dt.time(0), tzinfo=LONDON)
    minutes = fire_times(specs["dispatch-outbox"].trigger, sunday, sunday + dt.timedelta(hours=4))
    gaps = {b - a for a, b in itertools.pairwise(minutes)}
    assert gaps == {dt.timedelta(minutes=1)}, label
