"""``auditround status``, as an operator's monitor runs it: the figures, and exit 1 with a
sentence on stderr when something needs attention."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support import LONDON, MAIL_FROM, PUBLIC_URL
from support.briefing_rounds import briefing_round
from support.rounds import launched_round, planned_round, queue_notes
from support.scripted_smtp import ScriptedHandler
from typer.testing import CliRunner, Result

from audit_core.adapters.settings import SmtpSettings
from audit_core.adapters.smtp_sink import Sink, SinkHandler
from audit_core.bootstrap import App
from audit_core.cli import app as cli
from audit_core.domain.models import Finding, FindingKind
from audit_core.services.action_follow_up import follow_up
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database
MakeApp = Callable[..., App]
MakeUow = Callable[..., UnitOfWork]


def status(now: str, *options: str) -> Result:
    return CliRunner().invoke(cli, ["--now", now, "status", *options])


def status_json(now: str, *options: str) -> tuple[int, Any]:
    result = status(now, "--json", *options)
    assert result.exit_code in (0, 1), (result.output, result.exception)
    return result.exit_code, json.loads(result.stdout)


def when(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A time in March 2026, London."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=LONDON)


def at(day: int, hour: int, minute: int = 0) -> str:
    """The same, as ``--now`` takes it."""
    return when(day, hour, minute).isoformat()


def utc(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC) if text else None


def test_a_delivered_round_is_healthy_and_the_command_exits_0(
    uow: UnitOfWork, session: Session, app: App, sink: Sink, cli_env: str, now: dt.datetime
) -> None:
    planned_round(uow)
    launched_round(uow)
    assert app.dispatch().sent == 7

    code, shown = status_json(at(2, 9, 5))

    assert code == 0 and shown["healthy"] is True and shown["problems"] == []
    assert (shown["outbox"]["pending"], shown["outbox"]["failed"]) == (0, 0)
    assert utc(shown["outbox"]["last_sent_at"]) == now
    [line] = shown["rounds"]
    assert (line["round"], line["status"], line["progress"]["sent"]) == ("2026-H1", "open", 5)
    text = status(at(2, 9, 5))
    assert text.exit_code == 0 and text.stderr == ""
    assert "0 waiting, 0 due now" in text.stdout
    assert "Mon 02 Mar 2026 09:00 (5 minutes ago)" in text.stdout  # the last sent
    assert "2026-H1" in text.stdout and "1 round in progress" in text.stdout


def test_a_message_waiting_longer_than_the_limit_needs_attention(
    uow: UnitOfWork, session: Session, cli_env: str
) -> None:
    queue_notes(uow, 2)  # queued at 09:00, and nobody sends them
    session.commit()

    code, shown = status_json(at(2, 9, 30))
    assert code == 0
    assert (shown["outbox"]["pending"], shown["outbox"]["oldest_pending_minutes"]) == (2, 30.0)

    late = status(at(2, 10, 30))
    assert late.exit_code == 1
    assert "queued 90 minutes ago (the limit is 60 minutes)" in " ".join(late.stderr.split())
    assert status(at(2, 10, 30), "--max-pending-age", "120").exit_code == 0


def test_a_message_given_up_on_needs_attention_for_a_day_then_stays_counted(
    uow: UnitOfWork,
    session: Session,
    make_app: MakeApp,
    start_sink: Callable[[SinkHandler], Sink],
    cli_env: str,
    now: dt.datetime,
) -> None:
    refusing = start_sink(ScriptedHandler(refuse={"amara.bello@example.org": "550 5.1.1 no"}))
    queue_notes(uow, 1)
    session.commit()
    sent = make_app(refusing.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL)).dispatch()
    assert (sent.failed, sent.alerts_queued) == (1, 1)

    same_day = status(at(2, 9, 10), "--json")
    assert same_day.exit_code == 1
    assert "1 message could not be delivered in the last 24 hours" in (
        " ".join(same_day.stderr.split())
    )
    [failure] = json.loads(same_day.stdout)["outbox"]["failures"]
    assert failure["to"] == ["amara.bello@example.org"] and "550" in failure["last_error"]
    assert utc(failure["failed_at"]) == now

    code, next_day = status_json(at(3, 10))
    assert code == 0
    assert (next_day["outbox"]["failed"], next_day["outbox"]["failed_recently"]) == (1, 0)
    assert status(at(3, 10), "--failed-within", "48").exit_code == 1


def test_the_last_chase_is_when_it_last_took_a_step(
    uow: UnitOfWork, session: Session, smtp_env: Sink, cli_env: str
) -> None:
    planned_round(uow)
    launched_round(uow)
    assert CliRunner().invoke(cli, ["--now", at(2, 9), "outbox", "dispatch"]).exit_code == 0
    _, before = status_json(at(20, 9))
    assert before["chase"]["last_at"] is None

    chased = CliRunner().invoke(cli, ["--now", at(23, 8), "chase"])  # the five reminders
    assert chased.exit_code == 0, chased.output

    _, after = status_json(at(23, 9))
    assert utc(after["chase"]["last_at"]) == when(23, 8)
    assert "Mon 23 Mar 2026 08:00 (60 minutes ago)" in status(at(23, 9)).stdout


def test_the_last_follow_up_is_when_it_last_chased_an_action(
    uow: UnitOfWork, session: Session, make_app: MakeApp, mail_settings: SmtpSettings, cli_env: str
) -> None:
    briefing_round(uow)
    lesson = session.scalars(select(Finding.id).where(Finding.kind == FindingKind.LESSON)).first()
    assert lesson is not None
    make_app(mail_settings, at=when(2, 10)).add_action(
        lesson_id=lesson,
        text="Team 1 records the child's own words in every plan.",
        measure="A dip sample of ten plans shows it in eight.",
        owner="tomasz-wierzbicki",
        due_on=dt.date(2026, 3, 20),
    )
    report, _ = make_app(mail_settings, at=when(6, 8, 30)).change_then_send(follow_up)
    assert [step.step for step in report.reminders] == ["reminder-10"]

    _, shown = status_json(at(6, 9))

    assert utc(shown["follow_up"]["last_at"]) == when(6, 8, 30)
    assert shown["chase"]["last_at"] is None


def test_a_scheduler_that_stopped_running_its_jobs_needs_attention(
    cli_env: str, smtp_env: Sink
) -> None:
    started = CliRunner().invoke(cli, ["scheduler", "--once"])  # writes the schedule down
    assert started.exit_code == 0, started.output
    real_now = dt.datetime.now(dt.UTC)

    code, shown = status_json(real_now.isoformat())
    jobs = {job["job"]: job for job in shown["scheduler"]}
    assert {"dispatch-outbox", "chase-returns", "launch-rounds"} <= set(jobs)
    assert code == 0 and all(job["late_minutes"] == 0 for job in jobs.values())

    later = status((real_now + dt.timedelta(hours=1)).isoformat())
    assert later.exit_code == 1
    said = " ".join(later.stderr.split())
    assert "The scheduler has not run dispatch-outbox (" in said
    assert "is 'auditround scheduler' running?" in said
