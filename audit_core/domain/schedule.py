"""When each recurring job runs: one list, for the embedded scheduler and for Prefect.

Times of day are in the board's zone (``board.timezone``); repeats through the day
count real time. The same list gives APScheduler's triggers
(:mod:`audit_core.scheduler.service`) and the Prefect deployments' schedules
(:mod:`flows.deployments`), so the two modes cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit_core.domain.policy import BoardConfig

# The retention purge's time of day: early, out of the small hours when clocks change.
PURGE_TIME = "05:30"


@dataclass(frozen=True)
class Recurring:
    job: str  # dispatch-outbox, launch-rounds, chase-returns, follow-up-actions, ...
    every_minutes: int | None = None  # a repeat through the day, in real time
    at: str | None = None  # or a time of day, "08:00"
    days: str = "mon-fri"  # the days a time of day applies to (cron's day-of-week)
    grace_hours: int = 1  # how late a missed run may still start

    def cron(self) -> str:
        """The time of day as a cron expression (for Prefect's ``Cron``)."""
        assert self.at is not None
        hour, minute = (int(part) for part in self.at.split(":"))
        return f"{minute} {hour} * * {self.days}"


def recurring_jobs(config: BoardConfig) -> list[Recurring]:
    """Every recurring job: the outbox every minute, launches every quarter of an hour (a
    round launches at its day's ``launch_time``), the chase at ``chase_time`` on weekdays
    (the sweep does nothing on a bank holiday), and the follow-up of actions half an hour
    later on weekdays: its reminders fall on working days (a weekly run would take them
    up to four days late), and it sends the action plan's digest only on its weekday;
    and the retention purge every day at :data:`PURGE_TIME`, before the working day."""
    chase_time = config.cadence.chase_time
    return [
        Recurring("dispatch-outbox", every_minutes=1, grace_hours=1),
        Recurring("launch-rounds", every_minutes=15, grace_hours=96),
        Recurring("chase-returns", at=chase_time, days="mon-fri", grace_hours=96),
        Recurring("follow-up-actions", at=later(chase_time, 30), days="mon-fri", grace_hours=96),
        Recurring("purge-expired-returns", at=PURGE_TIME, days="*", grace_hours=96),
    ]


def later(at: str, minutes: int) -> str:
    """The time of day ``minutes`` after ``at`` ("08:00" -> "08:30"), at most 23:59."""
    hour, minute = (int(part) for part in at.split(":"))
    total = min(hour * 60 + minute + minutes, 23 * 60 + 59)
    return f"{total // 60:02d}:{total % 60:02d}"
