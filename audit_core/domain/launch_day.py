"""When a round launches: on its planned day, in the board's time zone.

A round is planned to launch on a date (``audit_round.launch_on``); the
scheduler launches it at the cadence's ``launch_time`` on that date, in the
board's zone (:func:`launch_moment`, :func:`launch_is_due`). A launch by hand
is judged by the date alone: any time on the planned day (or later, within the
round's period) is on time; a day before needs the coordinator to say it is
early (:func:`check_launch_day`), and the audit trail keeps that they did.
"""

from __future__ import annotations

import datetime as dt

from audit_core.domain.errors import InvalidState
from audit_core.domain.periods import check_in_period, period_of
from audit_core.domain.workdays import local_date, zone


def launch_moment(launch_on: dt.date, launch_time: str, timezone: str) -> dt.datetime:
    """The moment the scheduler launches a round: ``launch_on`` at ``launch_time`` ("09:00")
    in the board's zone, as an aware datetime."""
    hours, minutes = (int(part) for part in launch_time.split(":"))
    return dt.datetime.combine(launch_on, dt.time(hours, minutes), tzinfo=zone(timezone))


def launch_is_due(launch_on: dt.date, launch_time: str, timezone: str, now: dt.datetime) -> bool:
    """Whether the scheduler should launch a planned round at ``now``."""
    return now >= launch_moment(launch_on, launch_time, timezone)


def opened_early(launch_on: dt.date, launched_at: dt.datetime, timezone: str) -> bool:
    """Whether a round was opened before its planned day (in the board's zone)."""
    return local_date(launched_at, timezone) < launch_on


def check_launch_day(
    round_id: str, launch_on: dt.date, today: dt.date, *, early: bool = False
) -> bool:
    """May a planned round be launched ``today``? True if this is an early launch.

    1. Today must fall in the round's period (``2026-H1``: January to June 2026).
    2. Before the planned launch date, only an early launch (``early=True``) is allowed.
    """
    check_in_period(period_of(round_id), today, what="be launched")
    if today >= launch_on:
        return False
    if not early:
        raise InvalidState(
            f"Round {round_id} is planned to launch on {launch_on:%A %d/%m/%Y}, and today is "
            f"{today:%A %d/%m/%Y}: launch it on that day, or say it is an early launch.",
            missing="early",
        )
    return True
