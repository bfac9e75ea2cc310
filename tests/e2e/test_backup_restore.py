"""A backup taken mid-round and restored into a fresh database (docs/operations.md): the
round resumes on the restored database, through the commands an operator types.

Round 2026-H1 is launched on Monday 2 March 2026 (five tasks, two nomination requests) and
only three of its seven emails have gone when the backup is taken, while the database is in
use: ``pg_dump -Fc`` on PostgreSQL, the online backup API on SQLite. Restored into a fresh
database, its audit trail verifies, the launch finishes (the four others, then the
summary), and the chase of 23 March reminds the five auditors: each email once, and none
of the three sent before the backup again. What a backup cannot know is a message sent after
it was taken: that one goes again, under the same Message-ID.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.backups import back_up, restored
from support.rounds import launched_round, planned_round
from typer.testing import CliRunner, Result

from audit_core.adapters.smtp_sink import Sink
from audit_core.bootstrap import App
from audit_core.cli import app as cli
from audit_core.domain.models import OutboxMessage
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database


def run(now: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--now", now, "--as", "alice", *args])


def ok(now: str, *args: str) -> Any:
    result = run(now, *args, "--json")
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout)


def waiting_ids(session: Session) -> set[str]:
    """The Message-IDs of what the outbox still has to send."""
    session.expire_all()
    return set(
        session.scalars(select(OutboxMessage.message_id).where(OutboxMessage.status == "queued"))
    )


@pytest.fixture
def half_sent(uow: UnitOfWork, session: Session, app: App, smtp_env: Sink) -> set[str]:
    """The round launched and three of its seven emails sent; their Message-IDs."""
    planned_round(uow)
    launched_round(uow)
    assert app.dispatch(limit=3).sent == 3
    sent = {m.message_id for m in smtp_env.messages}
    smtp_env.clear()
    return sent


def test_a_round_restored_from_a_backup_resumes_and_sends_nothing_twice(
    half_sent: set[str],
    session: Session,
    smtp_env: Sink,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    still_to_send = waiting_ids(session)
    backup = back_up(database_url, tmp_path)

    with restored(backup, database_url, tmp_path) as restored_url:
        monkeypatch.setenv("AUDITROUND_DATABASE_URL", restored_url)
        verified = ok("2026-03-02T10:00", "audit", "verify")
        assert verified["intact"] is True and verified["checked"] > 0

        launch = ok("2026-03-02T10:00", "round", "launch", "2026-H1")  # finish the launch
        assert launch["launch"]["tasks_queued"] == 0  # nothing queued twice
        assert (launch["dispatch"]["sent"], launch["dispatch"]["failed"]) == (5, 0)
        resumed = {m.message_id for m in smtp_env.messages}
        assert still_to_send < resumed  # the four waiting, then the summary
        assert not resumed & half_sent

        chased = ok("2026-03-23T08:00", "chase")
        assert len(chased["chase"]["reminders"]) == 5
        assert ok("2026-03-23T17:00", "chase")["dispatch"]["sent"] == 0
        health = ok("2026-03-23T17:05", "status")
        assert health["healthy"] is True and health["outbox"]["pending"] == 0
        assert ok("2026-03-23T17:05", "audit", "verify")["intact"] is True

    received = Counter(m.message_id for m in smtp_env.messages)
    assert set(received.values()) == {1}  # every email once
    assert len(received) == 4 + 1 + 5 + 1  # the rest of the launch, summary, reminders, digest
    assert not set(received) & half_sent


def test_a_message_sent_after_the_backup_goes_again_under_the_same_message_id(
    half_sent: set[str],
    session: Session,
    app: App,
    smtp_env: Sink,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backup = back_up(database_url, tmp_path)
    assert app.dispatch(limit=2).sent == 2  # after the backup, before the failure
    after_backup = {m.message_id for m in smtp_env.messages}
    smtp_env.clear()

    with restored(backup, database_url, tmp_path) as restored_url:
        monkeypatch.setenv("AUDITROUND_DATABASE_URL", restored_url)
        assert ok("2026-03-02T10:00", "outbox", "dispatch")["sent"] == 4

    again = {m.message_id for m in smtp_env.messages}
    assert after_backup < again  # the two sent after the backup, again, recognisable
    assert not again & half_sent  # nothing the backup knew was sent
