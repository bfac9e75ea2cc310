"""``round launch --early``, ``round list`` and ``round cancel``, as a coordinator types them."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from typing import Any

import pytest
from sqlalchemy.orm import Session
from support import PROJECT
from support.rounds import planned_round
from typer.testing import CliRunner, Result

from audit_core.adapters.smtp_sink import Sink
from audit_core.cli import app as cli
from audit_core.cli import common
from audit_core.domain.errors import InvalidState
from audit_core.domain.models import AuditRound, RoundStatus
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

AS_ALICE = ["--now", "2026-03-02", "--as", "alice"]


def run(*args: str, now: str = "2026-03-02") -> Result:
    return CliRunner().invoke(cli, ["--now", now, "--as", "alice", *args])


def run_json(*args: str, now: str = "2026-03-02") -> Any:
    result = run(*args, "--json", now=now)
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.output)


def flat(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return " ".join(result.output.split())


def plan_for(uow: UnitOfWork, launch_on: dt.date) -> None:
    planned_round(uow).launch_on = launch_on
    uow.session.commit()


def test_launching_before_the_planned_day_is_refused_and_names_the_option(
    uow: UnitOfWork, session: Session, smtp_env: Sink
) -> None:
    plan_for(uow, dt.date(2026, 3, 9))

    result = run("round", "launch", "2026-H1")

    assert isinstance(result.exception, InvalidState)
    assert "planned to launch on Monday 09/03/2026" in str(result.exception)
    assert result.exception.missing == "early"
    assert smtp_env.count == 0
    installed = subprocess.run(
        [sys.executable, "-m", "audit_core", *AS_ALICE, "round", "launch", "2026-H1"],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        timeout=120,
    )
    assert installed.returncode == 1
    assert "Use --early." in " ".join(installed.stderr.split())


def test_an_early_launch_opens_the_round_and_round_show_says_it_was_early(
    uow: UnitOfWork, session: Session, smtp_env: Sink
) -> None:
    plan_for(uow, dt.date(2026, 3, 9))

    launched = run_json("round", "launch", "2026-H1", "--early")
    shown = flat(run("round", "show", "2026-H1"))

    assert launched["launch"]["opened"] is True
    assert (
        "Opened Mon 02/03/2026 at 09:00 (Europe/London), early: planned for Mon 09/03/2026 "
        "at 09:00." in shown
    )


def test_round_show_says_a_round_opened_on_its_planned_day(
    uow: UnitOfWork, session: Session, smtp_env: Sink
) -> None:
    plan_for(uow, dt.date(2026, 3, 2))
    run_json("round", "launch", "2026-H1", now="2026-03-02T10:15")

    shown = run_json("round", "show", "2026-H1")

    assert "Opened Mon 02/03/2026 at 10:15 (Europe/London), on its planned day." in flat(
        run("round", "show", "2026-H1")
    )
    assert (shown["launched_at"], shown["launched_early"]) == ("2026-03-02T10:15:00+00:00", False)


def test_round_list_shows_each_round_with_its_dates_and_progress(
    uow: UnitOfWork, session: Session, smtp_env: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common.console, "_width", 160)  # one line per round
    plan_for(uow, dt.date(2026, 3, 2))
    run_json("round", "launch", "2026-H1")

    rows = run_json("round", "list")
    table = flat(run("round", "list"))

    assert [(r["round"], r["status"]) for r in rows] == [("2026-H1", "open")]
    assert rows[0]["progress"]["sent"] == 5 and rows[0]["progress"]["unfilled"] == 2
    assert "2026-H1" in table and "Think Family" in table and "Mon 30/03/2026" in table
    assert "7: 2 unfilled, 5 sent" in table


def test_round_list_with_no_round_says_how_to_plan_one(cli_env: str) -> None:
    assert "plan one with 'auditround round plan'" in flat(run("round", "list"))
    assert run_json("round", "list") == []


def test_a_planned_round_is_cancelled_without_any_mail_settings(
    uow: UnitOfWork, session: Session, cli_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AUDITROUND_SMTP_HOST", "AUDITROUND_MAIL_FROM", "AUDITROUND_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    plan_for(uow, dt.date(2026, 3, 9))

    text = flat(run("round", "cancel", "2026-H1", "--reason", "Inspection moved"))

    assert "Round 2026-H1 is cancelled (it was planned)." in text
    assert "auditround round plan --period 2026-H1" in text
    session.expire_all()
    audit_round = session.get(AuditRound, "2026-H1")
    assert audit_round is not None and audit_round.status == RoundStatus.CANCELLED
    assert run_json("round", "list")[0]["status"] == "cancelled"


def test_cancelling_an_open_round_tells_its_auditors_and_sends_at_once(
    uow: UnitOfWork, session: Session, smtp_env: Sink
) -> None:
    plan_for(uow, dt.date(2026, 3, 2))
    run_json("round", "launch", "2026-H1")
    before = smtp_env.count

    output = run_json("round", "cancel", "2026-H1", "--reason", "Inspection moved")

    assert output["cancel"]["auditors_told"] == 5 and output["cancel"]["leads_told"] == 2
    assert output["dispatch"]["sent"] == 8
    assert smtp_env.count == before + 8


def test_the_round_commands_are_listed_in_help(cli_env: str) -> None:
    text = " ".join(CliRunner().invoke(cli, ["round", "--help"]).output.split())
    assert "list" in text and "cancel" in text
    launch_help = " ".join(CliRunner().invoke(cli, ["round", "launch", "--help"]).output.split())
    assert "--early" in launch_help
