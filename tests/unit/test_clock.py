"""The clock is a parameter: --now and AUDITROUND_NOW set it for rehearsals."""

from __future__ import annotations

import datetime as dt

import pytest

from audit_core.adapters.clock import parse_now
from audit_core.bootstrap import App
from audit_core.domain.errors import AuditRoundError
from audit_core.domain.workdays import LONDON, london_date


def test_a_date_means_nine_in_the_morning_london_time() -> None:
    assert parse_now("2026-03-02") == dt.datetime(2026, 3, 2, 9, 0, tzinfo=LONDON)


def test_a_naive_datetime_is_london_time_and_an_aware_one_is_kept() -> None:
    assert parse_now("2026-07-01T08:30") == dt.datetime(2026, 7, 1, 8, 30, tzinfo=LONDON)
    assert parse_now("2026-07-01T08:30+00:00").utcoffset() == dt.timedelta(0)


def test_a_wrong_date_is_a_clear_error() -> None:
    with pytest.raises(AuditRoundError, match="is not a date or time"):
        parse_now("next tuesday")


def test_the_environment_sets_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITROUND_NOW", "2026-09-01")
    assert london_date(App.from_env().now) == dt.date(2026, 9, 1)
    assert london_date(App().now) == dt.date(2026, 9, 1)
    # an explicit --now wins over the environment
    assert london_date(App.from_env(now="2026-10-05").now) == dt.date(2026, 10, 5)


def test_a_wrong_time_in_the_environment_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUDITROUND_NOW", "next tuesday")
    with pytest.raises(AuditRoundError, match="is not a date or time"):
        App.from_env()


def test_without_an_override_the_clock_is_the_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITROUND_NOW", raising=False)
    before = dt.datetime.now(dt.UTC)
    assert before <= App.from_env().now <= dt.datetime.now(dt.UTC)
    assert before <= App().now <= dt.datetime.now(dt.UTC)
