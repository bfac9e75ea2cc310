"""Running the jobs on a schedule: APScheduler 3, its job store in the application database.

- The jobs (:mod:`audit_core.scheduler.jobs`) and when they run are listed once, in
  :mod:`audit_core.domain.schedule` (the Prefect deployments use the same list).
- Each job has its id, ``replace_existing``, ``coalesce`` and ``max_instances=1``, and a
  misfire grace of hours (an hour for the outbox, four days for the chase and the
  launches, a week for the follow-up), so that a machine that was off runs each missed
  job once when it is back, not once per missed time and not never.
- A job's schedule is written again at every start (``replace_existing``), but a run it
  missed is kept: if the stored next run time has passed, it stays, and the job runs
  once at start.
- The jobs that run at a time of day use cron triggers, at times the configuration keeps
  out of the small hours (``Cadence``): APScheduler 3's cron trigger can repeat itself in
  the hour the clocks go back. The ones that repeat through the day use intervals, which
  count real time in UTC (in a local zone, APScheduler 3 adds them to the wall clock and
  loses or repeats an hour when the clocks change).
- ``run_once`` runs what is due and returns, for cron and systemd timers.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.debug import DebugExecutor
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, select

from audit_core.domain.policy import BoardConfig
from audit_core.domain.schedule import Recurring, recurring_jobs

log = logging.getLogger("auditround.scheduler")

HOUR = 3600
# Intervals count from a fixed moment, so that their runs fall on whole minutes and
# quarters of an hour whenever the scheduler was started.
ANCHOR = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
JOBS = "audit_core.scheduler.jobs"
TABLE = "apscheduler_jobs"


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str  # "module:function", as APScheduler stores it
    trigger: BaseTrigger
    grace_hours: int


def _trigger(job: Recurring, zone: ZoneInfo) -> BaseTrigger:
    if job.every_minutes is not None:
        return IntervalTrigger(minutes=job.every_minutes, start_date=ANCHOR, timezone=dt.UTC)
    assert job.at is not None
    hour, minute = (int(part) for part in job.at.split(":"))
    return CronTrigger(day_of_week=job.days, hour=hour, minute=minute, timezone=zone)


def job_specs(config: BoardConfig) -> list[JobSpec]:
    """Every job of the embedded scheduler (``domain.schedule``), with its trigger."""
    zone = ZoneInfo(config.board.timezone)
    return [
        JobSpec(
            job.job, f"{JOBS}:{job.job.replace('-', '_')}", _trigger(job, zone), job.grace_hours
        )
        for job in recurring_jobs(config)
    ]


class OnceScheduler(BaseScheduler):
    """A scheduler that runs only when asked (:meth:`run_due`): for ``--once`` and tests."""

    def wakeup(self) -> None:  # nothing to wake: nothing waits
        pass

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def run_due(self) -> None:
        """Run every job whose time has come (missed runs coalesced into one), then return."""
        self._process_jobs()  # APScheduler 3's own step: due jobs, misfire grace, next times


def build(
    engine: Engine,
    config: BoardConfig,
    scheduler: type[BaseScheduler] = BlockingScheduler,
    *,
    now: dt.datetime | None = None,
) -> BaseScheduler:
    """A scheduler over ``engine``'s database with every job added (not started yet)."""
    store = SQLAlchemyJobStore(engine=engine, tablename=TABLE)
    store.jobs_t.create(engine, checkfirst=True)
    executor = DebugExecutor() if scheduler is OnceScheduler else ThreadPoolExecutor(4)
    built = scheduler(
        jobstores={"default": store},
        executors={"default": executor},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=ZoneInfo(config.board.timezone),
    )
    missed = _missed_runs(engine, store, now or dt.datetime.now(dt.UTC))
    for spec in job_specs(config):
        extra: dict[str, Any] = {}
        if spec.id in missed:  # a run missed while stopped: keep it, to run once at start
            extra["next_run_time"] = missed[spec.id]
        built.add_job(
            spec.func,
            trigger=spec.trigger,
            id=spec.id,
            name=spec.id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=spec.grace_hours * HOUR,
            **extra,
        )
    return built


def _missed_runs(
    engine: Engine, store: SQLAlchemyJobStore, now: dt.datetime
) -> dict[str, dt.datetime]:
    table = store.jobs_t
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.id, table.c.next_run_time)).all()
    return {
        job_id: dt.datetime.fromtimestamp(stamp, dt.UTC)
        for job_id, stamp in rows
        if stamp is not None and stamp <= now.timestamp()
    }


def run_forever(engine: Engine, config: BoardConfig) -> None:
    """Run the jobs until SIGTERM or SIGINT, then stop once the running jobs are done."""
    scheduler = build(engine, config)

    def stop(signum: int, _frame: object) -> None:
        log.info("stopping (signal %d): waiting for the running jobs", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for spec in job_specs(config):
        log.info("job %s: %s", spec.id, spec.trigger)
    scheduler.start()


def run_once(engine: Engine, config: BoardConfig, *, now: dt.datetime | None = None) -> None:
    """Run what is due now, then return (the first run only writes the schedule down)."""
    scheduler = build(engine, config, OnceScheduler, now=now)
    scheduler.start()
    try:
        assert isinstance(scheduler, OnceScheduler)
        scheduler.run_due()
    finally:
        scheduler.shutdown()
