"""``auditround round launch`` and ``auditround outbox``, as a coordinator types them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from support.rounds import MAIL_FROM, PUBLIC_URL, planned_round, queue_notes
from support.scripted_smtp import ScriptedHandler
from typer.testing import CliRunner, Result

from audit_core.adapters.smtp_sink import Sink
from audit_core.cli import app as cli
from audit_core.domain.errors import InvalidState, MailError
from audit_core.domain.models import AuditRound, RoundStatus
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

AS_ALICE = ["--now", "2026-03-02", "--as", "alice"]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, [*AS_ALICE, *args])


def run_json(*args: str) -> Any:
    result = run(*args, "--json")
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.output)


def test_round_launch_opens_the_round_and_delivers_every_email(
    uow: UnitOfWork, session: Session, smtp_env: Sink
) -> None:
    planned_round(uow)
    session.commit()

    output = run_json("round", "launch", "2026-H1")

    assert output["launch"]["opened"] is True
    assert (output["launch"]["tasks_queued"], output["launch"]["nominations_queued"]) == (5, 2)
    assert output["dispatch"]["sent"] == 8
    assert smtp_env.count == 8
    session.expire_all()
    assert session.get(AuditRound, "2026-H1").status == RoundStatus.OPEN  # type: ignore[union-attr]


def test_launching_again_from_the_command_line_sends_nothing(
    uow: UnitOfWork, session: Session, smtp_env: Sink
) -> None:
    planned_round(uow)
    session.commit()
    run_json("round", "launch", "2026-H1")

    again = run("round", "launch", "2026-H1")

    assert again.exit_code == 0, again.output
    assert "nothing new to queue" in again.output
    assert "Sent 0" in again.output
    assert smtp_env.count == 8


def test_launch_without_mail_settings_changes_nothing_and_says_what_is_missing(
    uow: UnitOfWork,
    session: Session,
    cli_env: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    planned_round(uow)
    session.commit()
    monkeypatch.setenv("AUDITROUND_MAIL_FROM", MAIL_FROM)
    monkeypatch.setenv("AUDITROUND_PUBLIC_URL", PUBLIC_URL)
    monkeypatch.delenv("AUDITROUND_SMTP_HOST", raising=False)

    result = run("round", "launch", "2026-H1")

    assert isinstance(result.exception, MailError)
    assert "AUDITROUND_SMTP_HOST" in str(result.exception)
    session.expire_all()
    assert session.get(AuditRound, "2026-H1").status == RoundStatus.PLANNED  # type: ignore[union-attr]


def test_outbox_status_counts_by_status_and_kind(
    uow: UnitOfWork, session: Session, smtp_env: Sink
) -> None:
    queue_notes(uow, 3)
    session.commit()
    run_json("outbox", "dispatch", "--limit", "1")

    status = run_json("outbox", "status")
    table = run("outbox", "status")

    assert status["by_status"] == {
        "queued": 2,
        "sending": 0,
        "sent": 1,
        "failed": 0,
        "withdrawn": 0,
    }
    assert status["by_kind"] == {"note": {"sent": 1, "queued": 2}}
    assert status["due_now"] == 2
    assert "Outbox" in table.output and "note" in table.output


def test_a_dry_run_writes_eml_files_instead_of_sending(
    uow: UnitOfWork, session: Session, smtp_env: Sink, tmp_path: Path
) -> None:
    queue_notes(uow, 2)
    session.commit()

    output = run_json("outbox", "dispatch", "--dry-run", str(tmp_path / "eml"))

    assert len(output["written"]) == 2
    assert all(
        Path(p).read_bytes().startswith(b"Content-Type: multipart/mixed") for p in output["written"]
    )
    assert smtp_env.count == 0
    assert run_json("outbox", "status")["by_status"]["queued"] == 2


def test_show_prints_the_headers_and_the_text_and_raw_prints_the_bytes(
    uow: UnitOfWork, session: Session, smtp_env: Sink
) -> None:
    planned_round(uow)
    session.commit()
    run_json("round", "launch", "2026-H1")

    shown = run_json("outbox", "show", "2")
    raw = run("outbox", "show", "2", "--raw")
    readable = run("outbox", "show", "2")

    assert shown["status"] == "sent" and shown["kind"] == "task"
    assert shown["headers"]["Subject"].startswith("Case audit 2026-H1: HK-00123")
    assert "Case reference:  HK-00123" in shown["text"]
    assert shown["attachments"] == ["case-audit-dates.ics"]
    assert raw.output.startswith("Content-Type: multipart/mixed")
    assert f"Message-ID: {shown['message_id']}" in raw.output
    assert "Case reference:  HK-00123" in readable.output


def test_retry_queues_a_failed_message_again(
    uow: UnitOfWork,
    session: Session,
    cli_env: str,
    monkeypatch: pytest.MonkeyPatch,
    start_sink: Any,
) -> None:
    (message,) = queue_notes(uow, 1)
    session.commit()
    server = start_sink(ScriptedHandler({message.message_id: ["550 5.1.1 no such user"]}))
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AUDITROUND_MAIL_FROM", MAIL_FROM)

    refused = run("outbox", "dispatch", "--json")
    assert refused.exit_code == 3, refused.output  # a message could not be delivered
    first = json.loads(refused.stdout)
    failures = run_json("outbox", "status")["failures"]
    retried = run_json("outbox", "retry", str(message.id))
    second = run_json("outbox", "dispatch")

    assert (first["failed"], first["alerts_queued"]) == (1, 1)
    assert [f["id"] for f in failures] == [message.id]
    assert "550 5.1.1 no such user" in failures[0]["last_error"]
    assert retried == {"queued_again": [message.id]}
    assert second["sent"] == 1
    refused = run("outbox", "retry", str(message.id))
    assert isinstance(refused.exception, InvalidState)
