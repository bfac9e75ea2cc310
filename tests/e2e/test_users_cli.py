"""``auditround users``, as the business unit's administrator runs it: add the first
coordinator, list, give a new password, disable; every mistake one sentence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support import PROJECT
from typer.testing import CliRunner, Result

from audit_core.adapters.passwords import Argon2Passwords
from audit_core.cli import app as cli
from audit_core.domain.models import AuditEvent, PortalUser
from audit_core.services import users
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

PASSWORD = "a long and memorable phrase"
ADD = [
    "users",
    "add",
    "amara-bello",
    "--name",
    "Amara Bello",
    "--email",
    "amara.bello@example.org",
    "--role",
    "coordinator",
]


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--now", "2026-03-02", "--as", "alice", *args], input=stdin)


def ok(*args: str, stdin: str | None = None) -> str:
    result = run(*args, stdin=stdin)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def listed() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(ok("users", "list", "--json"))
    return found


def auditround(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The installed command in a process of its own, as an administrator types it."""
    env = {key: value for key, value in os.environ.items() if key != "AUDITROUND_NOW"}
    return subprocess.run(
        [sys.executable, "-m", "audit_core", "--now", "2026-03-02", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT,
        timeout=120,
    )


def signs_in(uow: UnitOfWork, user_id: str, password: str) -> bool:
    uow.session.expire_all()
    return users.authenticate(uow, Argon2Passwords(), user_id, password) is not None


def test_the_first_coordinator_is_added_with_a_password_from_stdin(
    cli_env: str, uow: UnitOfWork, session: Session
) -> None:
    said = ok(*ADD, "--password-stdin", stdin=PASSWORD + "\n")
    assert "Added coordinator 'amara-bello' (Amara Bello)" in said
    assert PASSWORD not in said
    [user] = listed()
    assert user == {
        "id": "amara-bello",
        "name": "Amara Bello",
        "email": "amara.bello@example.org",
        "role": "coordinator",
        "active": True,
        "created_at": user["created_at"],
        "password_changed_at": user["password_changed_at"],
        "sessions": 0,
    }
    assert signs_in(uow, "amara-bello", PASSWORD)
    assert signs_in(uow, " Amara-Bello ", PASSWORD)  # as typed in a hurry
    assert not signs_in(uow, "amara-bello", PASSWORD + "!")
    stored = session.get(PortalUser, "amara-bello")
    assert stored is not None and stored.password_hash.startswith("$argon2id$")
    [event] = session.scalars(select(AuditEvent)).all()
    assert (event.action, event.actor) == ("portal_user_added", "alice")
    assert PASSWORD not in json.dumps(event.details)
    assert "argon2" not in json.dumps(event.details)


def test_the_password_is_asked_for_twice_without_echo(cli_env: str, uow: UnitOfWork) -> None:
    result = run(*ADD, stdin=f"{PASSWORD}\nsomething else entirely\n{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Type it again" in result.output
    assert PASSWORD not in result.output  # hidden as it is typed
    assert signs_in(uow, "amara-bello", PASSWORD)


def test_a_qa_member_is_listed_beside_the_coordinator(cli_env: str) -> None:
    ok(*ADD, "--password-stdin", stdin=PASSWORD)
    ok(
        "users",
        "add",
        "quinn",
        "--name",
        "Quinn Ashworth",
        "--email",
        "quinn@example.org",
        "--role",
        "QA",
        "--password-stdin",
        stdin=PASSWORD,
    )
    assert [(u["id"], u["role"]) for u in listed()] == [
        ("amara-bello", "coordinator"),
        ("quinn", "qa"),
    ]
    table = ok("users", "list")
    assert table.startswith("2 users") and "quinn" in table  # (narrow: names wrap)


def test_a_new_password_replaces_the_old_one(
    cli_env: str, uow: UnitOfWork, session: Session
) -> None:
    ok(*ADD, "--password-stdin", stdin=PASSWORD)
    new = "another phrase, just as long"
    said = ok("users", "password", "amara-bello", "--password-stdin", stdin=new + "\n")
    assert "New password set for 'amara-bello'" in said
    assert signs_in(uow, "amara-bello", new)
    assert not signs_in(uow, "amara-bello", PASSWORD)
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
    assert actions == ["portal_user_added", "portal_password_set"]


def test_a_disabled_user_cannot_sign_in_until_enabled(cli_env: str, uow: UnitOfWork) -> None:
    ok(*ADD, "--password-stdin", stdin=PASSWORD)
    assert "User 'amara-bello' disabled" in ok("users", "disable", "amara-bello")
    assert "already disabled: nothing changed" in ok("users", "disable", "amara-bello")
    assert listed()[0]["active"] is False
    assert not signs_in(uow, "amara-bello", PASSWORD)
    assert "enabled" in ok("users", "enable", "amara-bello")
    assert signs_in(uow, "amara-bello", PASSWORD)


def one_sentence(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    said = " ".join(result.stderr.split())
    assert said.startswith("Error: "), said
    return said


@pytest.mark.parametrize(
    ("change", "stdin", "expected"),
    [
        ({}, "too short\n", "The password is too short: use at least 12 characters"),
        ({}, "", "No password was given on standard input."),
        ({"amara-bello": "Amara Bello"}, PASSWORD, "'Amara Bello' cannot be a user name"),
        ({"coordinator": "admin"}, PASSWORD, "'admin' is not a role: use 'coordinator', 'qa'."),
        ({"amara.bello@example.org": "amara"}, PASSWORD, "'amara' is not an email address."),
    ],
)
def test_a_mistake_in_a_new_user_is_one_sentence_and_nothing_is_added(
    cli_env: str, change: dict[str, str], stdin: str, expected: str
) -> None:
    args = [change.get(arg, arg) for arg in ADD]
    said = one_sentence(auditround(*args, "--password-stdin", stdin=stdin))
    assert expected in said
    assert listed() == []


def test_a_user_added_twice_or_not_there_is_named(cli_env: str) -> None:
    ok(*ADD, "--password-stdin", stdin=PASSWORD)
    twice = one_sentence(auditround(*ADD, "--password-stdin", stdin=PASSWORD))
    assert "There is already a user 'amara-bello'." in twice
    for args in (("disable", "nobody"), ("password", "nobody", "--password-stdin")):
        missing = one_sentence(auditround("users", *args, stdin=PASSWORD))
        assert "There is no user 'nobody': 'auditround users list' shows them." in missing
