"""Launch on the planned day, in the board's time zone; ``--early`` is an override the audit
trail keeps; ``round show`` says when the round really opened."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from support.rounds import planned_round
from support.trail import events

from audit_core.adapters.settings import SmtpSettings
from audit_core.adapters.smtp_sink import Sink
from audit_core.bootstrap import App
from audit_core.domain.errors import InvalidState, PlanningError
from audit_core.domain.models import AuditRound, OutboxMessage, RoundStatus
from audit_core.domain.policy import BoardConfig
from audit_core.services.launch import launch_round
from audit_core.services.round_view import show_round
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

NEW_YORK = ZoneInfo("America/New_York")


def plan_for(uow: UnitOfWork, launch_on: dt.date) -> AuditRound:
    audit_round = planned_round(uow)
    audit_round.launch_on = launch_on
    uow.session.commit()
    return audit_round


def in_zone(config: BoardConfig, timezone: str) -> BoardConfig:
    return config.model_copy(
        update={"board": config.board.model_copy(update={"timezone": timezone})}
    )


def queued(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def test_a_launch_before_the_planned_day_is_refused_with_that_date_and_changes_nothing(
    uow: UnitOfWork, session: Session
) -> None:
    plan_for(uow, dt.date(2026, 3, 9))  # today is Monday 2 March

    with pytest.raises(InvalidState, match="planned to launch on Monday 09/03/2026"):
        launch_round(uow, "2026-H1")
    session.rollback()

    audit_round = session.get(AuditRound, "2026-H1")
    assert audit_round is not None and audit_round.status == RoundStatus.PLANNED
    assert queued(session) == 0


def test_an_early_launch_opens_the_round_and_the_audit_trail_records_the_override(
    uow: UnitOfWork, session: Session
) -> None:
    plan_for(uow, dt.date(2026, 3, 9))

    result = launch_round(uow, "2026-H1", early=True)
    session.commit()

    assert result.opened and result.tasks_queued == 5
    (launched,) = [e for e in events(session, round_id="2026-H1") if e.action == "launched"]
    assert launched.details == {"early": True, "planned_launch_on": "2026-03-09"}


def test_a_launch_on_its_planned_day_is_recorded_as_on_time(
    uow: UnitOfWork, session: Session
) -> None:
    plan_for(uow, dt.date(2026, 3, 2))

    launch_round(uow, "2026-H1")
    session.commit()

    (launched,) = [e for e in events(session, round_id="2026-H1") if e.action == "launched"]
    assert launched.details == {"early": False, "planned_launch_on": "2026-03-02"}


def test_a_round_is_not_launched_outside_its_period_even_early(
    make_uow: Callable[..., UnitOfWork], session: Session
) -> None:
    plan_for(make_uow(), dt.date(2026, 3, 2))
    december = make_uow(at=dt.datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/London")))

    with pytest.raises(PlanningError, match="Round 2026-H1 covers January to June 2026"):
        launch_round(december, "2026-H1", early=True)


def test_today_is_the_date_in_the_boards_zone(
    make_uow: Callable[..., UnitOfWork], config: BoardConfig, session: Session
) -> None:
    """At 03:00 UTC on 3 March it is 3 March in London but still 2 March in New York."""
    at = dt.datetime(2026, 3, 3, 3, 0, tzinfo=dt.UTC)
    london = make_uow(at=at)
    new_york = UnitOfWork(session, in_zone(config, "America/New_York"), at, "alice", london.mail)
    plan_for(london, dt.date(2026, 3, 3))

    assert (london.today, new_york.today) == (dt.date(2026, 3, 3), dt.date(2026, 3, 2))
    with pytest.raises(InvalidState, match="today is Monday 02/03/2026"):
        launch_round(new_york, "2026-H1")
    session.rollback()
    assert launch_round(london, "2026-H1").opened


def test_the_date_header_and_round_show_follow_the_boards_zone(
    uow: UnitOfWork,
    session: Session,
    config: BoardConfig,
    engine: Engine,
    mail_settings: SmtpSettings,
    sink: Sink,
) -> None:
    plan_for(uow, dt.date(2026, 3, 3))
    at = dt.datetime(2026, 3, 2, 15, 30, tzinfo=dt.UTC)  # 10:30 in New York
    board = in_zone(config, "America/New_York")
    app = App(config=board, engine=engine, smtp=mail_settings, clock=lambda: at)

    app.launch("2026-H1", early=True)

    message = sink.messages[0].parsed()
    assert message["Date"] == "Mon, 02 Mar 2026 10:30:00 -0500"
    with app.unit_of_work() as work:
        view = show_round(work, "2026-H1")
    assert view.opening is not None
    assert view.opening.launched_at == at.astimezone(NEW_YORK)
    assert view.opening.launched_at.utcoffset() == dt.timedelta(hours=-5)
    assert view.opening.early is True
    assert view.opening.launch_at == dt.datetime(2026, 3, 3, 9, 0, tzinfo=NEW_YORK)
    assert view.to_json()["launched_at"] == "2026-03-02T10:30:00-05:00"


def test_round_show_says_a_planned_round_has_not_opened_yet(
    uow: UnitOfWork, session: Session
) -> None:
    plan_for(uow, dt.date(2026, 3, 9))

    view = show_round(uow, "2026-H1").to_json()

    assert view["launched_at"] is None and view["launched_early"] is None
    assert view["planned_launch_at"] == "2026-03-09T09:00:00+00:00"
    assert view["timezone"] == "Europe/London"
