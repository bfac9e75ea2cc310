"""A launch or dispatch that could not deliver exits non-zero and says why; wrong settings are
named, all at once, in one sentence each, never with a traceback (the CLI in a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from support import MAIL_FROM, PROJECT, PUBLIC_URL
from support.rounds import planned_round, queue_notes
from support.scripted_smtp import ScriptedHandler
from support.tls import self_signed_context

from audit_core.adapters import smtp_sink
from audit_core.adapters.smtp_sink import Sink, SinkHandler, free_port
from audit_core.cli.outbox_cmd import EXIT_FAILED, EXIT_STOPPED
from audit_core.domain.models import AuditRound, RoundStatus
from audit_core.services.unit_of_work import UnitOfWork

AMARA = "amara.bello@example.org"
MAIL_VARIABLES = (
    "AUDITROUND_SMTP_HOST",
    "AUDITROUND_SMTP_PORT",
    "AUDITROUND_SMTP_SECURITY",
    "AUDITROUND_SMTP_USER",
    "AUDITROUND_SMTP_PASSWORD",
    "AUDITROUND_MAIL_FROM",
    "AUDITROUND_PUBLIC_URL",
)


def auditround(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``auditround --now 2026-03-02T10:00 --as alice ARGS`` with the test's environment, and the
    mail settings given here only."""
    full = {
        k: v for k, v in os.environ.items() if k not in MAIL_VARIABLES and k != "AUDITROUND_NOW"
    }
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "audit_core", "--now", "2026-03-02T10:00", "--as", "alice", *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=PROJECT,
        timeout=120,
    )


def mail_env(sink: Sink) -> dict[str, str]:
    return {**sink.env(), "AUDITROUND_MAIL_FROM": MAIL_FROM, "AUDITROUND_PUBLIC_URL": PUBLIC_URL}


def unreachable() -> dict[str, str]:
    return {
        "AUDITROUND_SMTP_HOST": "127.0.0.1",
        "AUDITROUND_SMTP_PORT": str(free_port()),
        "AUDITROUND_SMTP_SECURITY": "none",
        "AUDITROUND_MAIL_FROM": MAIL_FROM,
        "AUDITROUND_PUBLIC_URL": PUBLIC_URL,
    }


def one_sentence_no_traceback(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stdout + result.stderr
    return " ".join(result.stderr.split())


# --- a run that could not deliver ----------------------------------------------------------


@pytest.mark.database
def test_a_dispatch_that_cannot_reach_the_server_exits_4_and_says_why(
    uow: UnitOfWork, session: Session, cli_env: str
) -> None:
    queue_notes(uow, 2)
    session.commit()

    result = auditround("outbox", "dispatch", **unreachable())

    assert result.returncode == EXIT_STOPPED == 4
    said = one_sentence_no_traceback(result)
    assert "the mail server could not be reached" in said
    assert "cannot connect to the mail server 127.0.0.1" in said
    assert "The messages wait in the outbox" in said


@pytest.mark.database
def test_a_dispatch_with_a_message_refused_for_good_exits_3_and_says_why(
    uow: UnitOfWork,
    session: Session,
    cli_env: str,
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    queue_notes(uow, 2)
    session.commit()
    server = start_sink(ScriptedHandler(refuse={AMARA: "550 5.1.1 no such user"}))

    result = auditround("outbox", "dispatch", "--json", **mail_env(server))

    assert result.returncode == EXIT_FAILED == 3
    assert json.loads(result.stdout)["failed"] == 2  # stdout stays machine-readable
    said = one_sentence_no_traceback(result)
    assert (
        "2 messages could not be delivered; an alert to the business unit is in the outbox" in said
    )


@pytest.mark.database
def test_a_dispatch_that_delivers_everything_exits_0(
    uow: UnitOfWork, session: Session, cli_env: str, sink: Sink
) -> None:
    queue_notes(uow, 2)
    session.commit()

    result = auditround("outbox", "dispatch", **mail_env(sink))

    assert result.returncode == 0, result.stderr
    assert "Sent 2" in result.stdout and result.stderr == ""


@pytest.mark.database
def test_a_launch_with_a_task_refused_for_good_exits_3_and_reports_the_summary(
    uow: UnitOfWork,
    session: Session,
    cli_env: str,
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    planned_round(uow)
    session.commit()
    server = start_sink(ScriptedHandler(refuse={AMARA: "550 5.1.1 no such user"}))

    result = auditround("round", "launch", "2026-H1", **mail_env(server))

    assert result.returncode == EXIT_FAILED, result.stderr
    out = " ".join(result.stdout.split())
    assert "Round 2026-H1 is open" in out
    assert "tasks 4 delivered, 1 not delivered, 0 waiting for a retry" in out
    assert "1 message could not be delivered" in one_sentence_no_traceback(result)
    session.expire_all()
    assert session.get(AuditRound, "2026-H1").status == RoundStatus.OPEN  # type: ignore[union-attr]


@pytest.mark.database
def test_a_launch_that_cannot_reach_the_server_exits_4_and_the_summary_waits(
    uow: UnitOfWork, session: Session, cli_env: str, sink: Sink
) -> None:
    planned_round(uow)
    session.commit()

    stopped = auditround("round", "launch", "2026-H1", **unreachable())

    assert stopped.returncode == EXIT_STOPPED
    assert "The launch summary waits" in " ".join(stopped.stdout.split())
    assert "could not be reached" in one_sentence_no_traceback(stopped)
    again = auditround("--now", "2026-03-03", "round", "launch", "2026-H1", **mail_env(sink))
    assert again.returncode == 0, again.stderr
    assert "Launch summary to the business unit: tasks 5 delivered" in " ".join(
        again.stdout.split()
    )


@pytest.fixture(scope="module")
def untrusted_starttls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sink]:
    """A server offering STARTTLS with a certificate no client trusts."""
    context = self_signed_context(tmp_path_factory.mktemp("tls"))
    with smtp_sink.running(tls_context=context, require_starttls=False) as server:
        yield server


@pytest.mark.database
def test_a_starttls_failure_is_named_with_the_setting_that_fixes_it(
    uow: UnitOfWork, session: Session, cli_env: str, untrusted_starttls: Sink
) -> None:
    queue_notes(uow, 1)
    session.commit()
    env = {
        "AUDITROUND_SMTP_HOST": untrusted_starttls.host,
        "AUDITROUND_SMTP_PORT": str(untrusted_starttls.port),
        "AUDITROUND_SMTP_SECURITY": "starttls",
        "AUDITROUND_MAIL_FROM": MAIL_FROM,
    }

    result = auditround("outbox", "dispatch", **env)

    assert result.returncode == EXIT_STOPPED
    said = one_sentence_no_traceback(result)
    assert "the mail server's STARTTLS failed" in said
    assert "CERTIFICATE_VERIFY_FAILED" in said
    assert "check its certificate, or set AUDITROUND_SMTP_SECURITY=ssl" in said
    assert untrusted_starttls.count == 0


# --- settings -----------------------------------------------------------------------------


@pytest.mark.database
def test_every_missing_launch_setting_is_named_at_once_and_nothing_changes(
    uow: UnitOfWork, session: Session, cli_env: str
) -> None:
    planned_round(uow)
    session.commit()

    result = auditround("round", "launch", "2026-H1")

    assert result.returncode == 1
    said = one_sentence_no_traceback(result)
    for variable in ("AUDITROUND_SMTP_HOST", "AUDITROUND_MAIL_FROM", "AUDITROUND_PUBLIC_URL"):
        assert f"{variable} is not set" in said
    session.expire_all()
    assert session.get(AuditRound, "2026-H1").status == RoundStatus.PLANNED  # type: ignore[union-attr]


@pytest.mark.database
def test_a_public_address_without_its_scheme_is_called_malformed(
    uow: UnitOfWork, session: Session, cli_env: str, sink: Sink
) -> None:
    planned_round(uow)
    session.commit()
    env = {**mail_env(sink), "AUDITROUND_PUBLIC_URL": "audits.example.org"}

    result = auditround("round", "launch", "2026-H1", **env)

    assert result.returncode == 1
    said = one_sentence_no_traceback(result)
    assert "AUDITROUND_PUBLIC_URL is 'audits.example.org', which is not a web address" in said
    assert "not set" not in said
    assert sink.count == 0


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("nonsense", "'nonsense' is not a database URL"),
        ("postgres://audit:s3cret@db.example.org/audits", "names no database auditround can use"),
        ("oracle+nothing://db.example.org/audits", "names no database auditround can use"),
        ("postgresql://audit@db.example.org/audits", "needs a driver that is not installed"),
    ],
)
def test_a_malformed_database_url_is_one_sentence(url: str, why: str, tmp_path: Path) -> None:
    result = auditround(
        "cases", "list", AUDITROUND_DATABASE_URL=url, AUDITROUND_CONFIG=str(PROJECT / "config")
    )

    assert result.returncode == 1
    said = one_sentence_no_traceback(result)
    assert said.startswith("Error: The database setting AUDITROUND_DATABASE_URL")
    assert why in said
    assert "postgresql+psycopg://user@host/database" in said  # the form expected
    assert "s3cret" not in said  # a password is never printed
    assert said.count(". ") == 0  # one sentence


# --- outbox list and status ---------------------------------------------------------------


@pytest.mark.database
def test_outbox_list_and_status_show_each_message_and_the_next_retry(
    uow: UnitOfWork,
    session: Session,
    cli_env: str,
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    planned_round(uow)
    session.commit()
    server = start_sink(ScriptedHandler(refuse={AMARA: "451 4.3.0 mailbox busy"}))
    auditround("round", "launch", "2026-H1", **mail_env(server))

    table = auditround("outbox", "list", "--round", "2026-H1", "--kind", "task")
    listed = json.loads(auditround("outbox", "list", "--status", "queued", "--json").stdout)
    status = auditround("outbox", "status")
    wrong = auditround("outbox", "list", "--status", "lost")

    assert table.returncode == 0, table.stderr
    for column in ("to", "kind", "state", "attempts", "next attempt", "last error"):
        assert column in table.stdout
    assert "Outbox: 5 messages" in table.stdout
    assert [m["recipients"] for m in listed] == [[AMARA]]
    assert listed[0]["attempts"] == 1 and "451 4.3.0 mailbox busy" in listed[0]["last_error"]
    assert "Next retry due: Mon 02 Mar 2026" in status.stdout
    assert wrong.returncode == 1
    assert "no message status 'lost'" in one_sentence_no_traceback(wrong)
