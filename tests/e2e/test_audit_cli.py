"""``auditround audit verify``, as an operator runs it: intact, or the first broken link."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from support.trail import events, tamper
from typer.testing import CliRunner, Result

from audit_core.cli import app as cli
from audit_core.domain.errors import SettingError
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["--now", "2026-03-02", *args])


def test_an_intact_trail_says_how_many_events_were_checked_and_exits_0(
    uow: UnitOfWork, session: Session, cli_env: str
) -> None:
    uow.record("planned", "audit_round", "2026-H1", round_id="2026-H1")
    session.commit()

    result = run("audit", "verify")

    assert result.exit_code == 0, result.output
    intact, hint = result.output.splitlines()
    last = events(session)[0].hash
    assert intact == f"audit trail intact: 1 event checked; the last, #1, has hash {last}"
    assert hint.endswith(f"run: auditround audit verify --noted 1:{last}")
    assert run("audit", "verify", "--noted", f"1:{last}").exit_code == 0
    changed = run("audit", "verify", "--noted", f"1:{'0' * 64}")
    assert changed.exit_code == 5
    assert "its hash is not the one noted for it" in changed.stderr
    assert run("audit", "verify", "--noted", "1:abc").exit_code == 2  # not a place and hash


def test_a_forged_event_is_named_and_the_command_exits_5(
    uow: UnitOfWork, session: Session, engine: Engine, cli_env: str
) -> None:
    for actor in ("alice", "bob"):
        uow.actor = actor
        uow.record("updated", "case_file", 1)
        session.commit()
    bobs = events(session)[1]
    tamper(engine, f"UPDATE audit_event SET actor = 'mallory' WHERE id = {bobs.id}")

    result = run("audit", "verify")
    assert result.exit_code == 5
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"Error: audit trail broken at event #2 (id {bobs.id}): its content does not match "
        "its hash."
    )

    shown = json.loads(run("audit", "verify", "--json").stdout)
    assert (shown["intact"], shown["checked"], shown["broken"]["why"]) == (False, 1, "content")
    assert shown["broken"]["event_id"] == bobs.id


def test_roles_are_refused_on_sqlite_with_a_sentence(engine: Engine, cli_env: str) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("on PostgreSQL, tests/integration/test_postgres_roles.py grants roles")
    result = run("db", "grant", "auditround_app")
    assert isinstance(result.exception, SettingError)  # printed as one sentence, exit code 1
    assert str(result.exception) == "Roles are a PostgreSQL matter: SQLite has none to grant."
