"""``auditround round lock``: the returns close and the round moves to moderation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from support.rounds import launched_round, planned_round
from support.trail import events
from typer.testing import CliRunner

from audit_core.cli import app as cli
from audit_core.domain.models import AuditRound, RoundStatus
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database
AUDITROUND = Path(sys.executable).parent / "auditround"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--now", "2026-04-10T17:00", "--as", "alice", *args])
    return result.exit_code, " ".join((result.stdout + result.stderr).split())


def test_locking_an_open_round_moves_it_to_moderation_once(
    uow: UnitOfWork, session: Session, cli_env: str
) -> None:
    planned_round(uow)
    launched_round(uow)
    code, output = run("round", "lock", "2026-H1")
    assert code == 0, output
    assert "Round 2026-H1 is in moderation: 0 returns in, 7 not received." in output
    session.expire_all()
    audit_round = session.get(AuditRound, "2026-H1")
    assert audit_round is not None and audit_round.status == RoundStatus.MODERATION
    code, output = run("round", "lock", "2026-H1", "--json")
    assert code == 0 and json.loads(output)["moved"] is False
    assert [e.actor for e in events(session) if e.action == "moderation_started"] == ["alice"]


def test_a_planned_round_cannot_be_locked(uow: UnitOfWork, cli_env: str) -> None:
    planned_round(uow)
    uow.session.commit()
    installed = subprocess.run(
        [str(AUDITROUND), "round", "lock", "2026-H1"], capture_output=True, text=True, check=False
    )
    assert installed.returncode == 1
    error = " ".join(installed.stderr.split())
    assert "Round 2026-H1 is planned: only an open round can move to moderation." in error
    assert "Traceback" not in installed.stderr
