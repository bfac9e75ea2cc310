"""A round launches on its planned day, within its period, at the cadence's time in the
board's zone; before that day only when the coordinator says it is early."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from audit_core.domain.errors import InvalidState, PlanningError
from audit_core.domain.launch_day import (
    check_launch_day,
    launch_is_due,
    launch_moment,
    opened_early,
)
from audit_core.domain.periods import (
    check_in_period,
    parse_period,
    parse_round_id,
    period_bounds,
    period_of,
)
from audit_core.domain.workdays import local_date

D = dt.date
LONDON = ZoneInfo("Europe/London")


def test_the_launch_moment_is_the_launch_date_at_the_launch_time_in_the_boards_zone() -> None:
    moment = launch_moment(D(2026, 3, 2), "09:00", "Europe/London")
    assert moment == dt.datetime(2026, 3, 2, 9, 0, tzinfo=LONDON)
    summer = launch_moment(D(2026, 7, 1), "09:30", "Europe/London")
    assert summer.astimezone(dt.UTC) == dt.datetime(2026, 7, 1, 8, 30, tzinfo=dt.UTC)  # BST
    new_york = launch_moment(D(2026, 3, 2), "09:00", "America/New_York")
    assert new_york.astimezone(dt.UTC) == dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)


def test_the_scheduler_launches_at_the_launch_time_not_before() -> None:
    before = dt.datetime(2026, 3, 2, 8, 59, tzinfo=LONDON)
    at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=LONDON)
    assert not launch_is_due(D(2026, 3, 2), "09:00", "Europe/London", before)
    assert launch_is_due(D(2026, 3, 2), "09:00", "Europe/London", at)


def test_a_launch_before_the_planned_day_is_refused_naming_that_day() -> None:
    with pytest.raises(InvalidState, match="planned to launch on Monday 09/03/2026") as error:
        check_launch_day("2026-H1", D(2026, 3, 9), D(2026, 3, 2))
    assert error.value.missing == "early"


def test_an_early_launch_is_allowed_when_asked_for_and_said_to_be_early() -> None:
    assert check_launch_day("2026-H1", D(2026, 3, 9), D(2026, 3, 2), early=True) is True


def test_a_launch_on_its_day_or_later_is_on_time() -> None:
    assert check_launch_day("2026-H1", D(2026, 3, 9), D(2026, 3, 9)) is False
    assert check_launch_day("2026-H1", D(2026, 3, 9), D(2026, 3, 12), early=True) is False


def test_a_round_cannot_be_launched_outside_its_period_even_early() -> None:
    with pytest.raises(PlanningError, match="covers January to June 2026") as error:
        check_launch_day("2026-H1", D(2026, 3, 2), D(2026, 12, 1), early=True)
    assert "in 2026-H2" in str(error.value)
    with pytest.raises(PlanningError, match="covers July to December 2026"):
        check_launch_day("2026-H2", D(2026, 7, 1), D(2026, 6, 25), early=True)


def test_a_period_runs_from_its_first_to_its_last_day() -> None:
    assert period_bounds("2026-H1") == (D(2026, 1, 1), D(2026, 6, 30))
    assert period_bounds("2026-H2") == (D(2026, 7, 1), D(2026, 12, 31))
    check_in_period("2026-H1", D(2026, 6, 30))
    with pytest.raises(PlanningError, match="cannot launch on 01/12/2026"):
        check_in_period("2026-H1", D(2026, 12, 1))


def test_a_cancelled_round_moved_aside_is_a_round_id_but_not_a_period() -> None:
    assert parse_round_id("2026-h1-Cancelled-2") == "2026-H1-cancelled-2"
    assert parse_round_id(" 2026-h2 ") == "2026-H2"
    assert period_of("2026-H1-cancelled-2") == "2026-H1"
    with pytest.raises(PlanningError, match="not a period"):
        parse_period("2026-H1-cancelled-2")
    with pytest.raises(PlanningError, match="not a round"):
        parse_round_id("2026-H1-old")


def test_early_means_opened_before_the_planned_day_in_the_boards_zone() -> None:
    late_evening_utc = dt.datetime(2026, 3, 2, 23, 30, tzinfo=dt.UTC)
    assert not opened_early(D(2026, 3, 2), late_evening_utc, "Europe/London")
    assert opened_early(D(2026, 3, 3), late_evening_utc, "Europe/London")
    assert not opened_early(D(2026, 3, 3), late_evening_utc, "Asia/Tokyo")  # 3 March there
    assert local_date(late_evening_utc, "Asia/Tokyo") == D(2026, 3, 3)
