"""``auditround chase`` as a coordinator types it: look at any day first, then send."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session
from support.rounds import launched_round, planned_round
from typer.testing import CliRunner, Result

from audit_core.adapters.smtp_sink import Sink
from audit_core.cli import app as cli
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database


def run(now: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--now", now, "--as", "alice", *args])


def ok(now: str, *args: str) -> str:
    result = run(now, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


@pytest.fixture
def opened(uow: UnitOfWork, session: Session, smtp_env: Sink) -> Sink:
    """The example round launched on Monday 2 March 2026, returns due 30 March."""
    planned_round(uow)
    launched_round(uow)
    ok("2026-03-02T09:00", "outbox", "dispatch")
    smtp_env.clear()
    return smtp_env


def test_a_dry_run_shows_any_day_s_chase_and_sends_nothing(opened: Sink) -> None:
    output = ok("2026-04-01T08:00", "chase", "--dry-run", "--json")
    report = json.loads(output)["chase"]
    leads = sorted(row["to_email"] for row in report["escalations"])
    assert leads == sorted(  # every task is two working days late: each agency's lead
        f"{name}@example.org"
        for name in (
            "adaeze.okonkwo-reid",  # hackney-csc
            "priya.raghunathan",  # met-police
            "tobias.lindqvist",  # city-cft
            "callum.fairweather",  # city-police
            "grace.mensah-whitfield",  # health-visiting
        )
    )
    assert report["reminders"] == [] and report["messages"] == []
    assert opened.count == 0
    # nothing was recorded: the same look gives the same answer
    again = json.loads(ok("2026-04-01T08:00", "chase", "--dry-run", "--json"))["chase"]
    assert again["escalations"] == report["escalations"]


def test_chase_sends_the_day_s_reminders_once(opened: Sink) -> None:
    output = " ".join(ok("2026-03-23T08:00", "chase").split())
    assert "Monday 23 March 2026: 5 chase steps taken (5 reminders, 0 late returns escalated)" in (
        output
    )
    assert "Sent 6," in output  # five reminders and the business unit's digest
    opened.clear()
    again = " ".join(ok("2026-03-23T17:00", "chase").split())
    assert "0 chase steps taken" in again
    assert opened.count == 0


def test_nobody_is_chased_on_a_bank_holiday(opened: Sink) -> None:
    output = " ".join(ok("2026-04-06T08:00", "chase").split())
    assert "Monday 6 April 2026 is a bank holiday (Easter Monday): nobody is chased today." in (
        output
    )
    assert opened.count == 0
