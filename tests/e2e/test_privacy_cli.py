"""``auditround privacy subject-access`` through the installed command, on the round of
:func:`support.retention_rounds.closed_round`: a case and a person listed, printed, as
JSON and written to a file; and what it says when the subject is unknown or not given."""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from support import CONFIG_DIR
from support.cli import auditround, flat
from support.retention_rounds import CONCERN, GOOD_PRACTICE, closed_round, day
from support.trail import events

from audit_core.adapters.settings import SmtpSettings
from audit_core.bootstrap import App
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return auditround(*args, now="2026-05-04T10:00")


def listings(session: Session) -> list[tuple[str, str, str]]:
    session.expire_all()
    return [
        (e.actor, e.object_type, e.object_id)
        for e in events(session)
        if e.action == "subject_access_listed"
    ]


@pytest.fixture
def closed(
    uow: UnitOfWork,
    make_app: Callable[..., App],
    mail_settings: SmtpSettings,
    cli_env: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUDITROUND_CONFIG", str(CONFIG_DIR))
    closed_round(uow, make_app().briefing_renderer(), make_app(mail_settings, at=day(4, 22)))


def test_a_case_is_printed_part_by_part_and_the_reading_recorded(
    closed: None, session: Session
) -> None:
    done = run("privacy", "subject-access", "--case", "HK-00123")

    assert done.returncode == 0, done.stderr
    said = flat(done.stdout)
    assert "Everything held about case HK-00123" in said
    for heading in ("The case register (1)", "Returns (2)", "Emails about it (6)"):
        assert heading in said
    assert CONCERN in said and GOOD_PRACTICE in said
    assert listings(session) == [("alice", "case_file", "HK-00123")]


def test_a_person_is_given_as_json(closed: None) -> None:
    done = run("privacy", "subject-access", "--person", "amara.bello@example.org", "--json")

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["kind"], data["subject"]) == ("person", "amara.bello@example.org")
    assert data["counts"]["audits"] == 1 and data["counts"]["actions"] == 1
    assert data["parts"]["returns"]["rows"][0]["answers"]["recognition"]["good_practice"] == (
        GOOD_PRACTICE
    )


def test_the_listing_is_written_to_a_file_only_its_owner_can_read(
    closed: None, tmp_path: Path
) -> None:
    folder = tmp_path / "requests"
    folder.mkdir()
    out = folder / "sar-HK-00123.json"

    done = run("privacy", "subject-access", "--case", "HK-00123", "--out", str(out))

    assert done.returncode == 0, done.stderr
    assert f"Wrote {out}" in flat(done.stdout) and "Returns: 2" in flat(done.stdout)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    data = json.loads(out.read_text())
    assert data["parts"]["returns"]["count"] == 2
    assert CONCERN not in done.stdout  # the file holds it, the screen does not
    assert [p.name for p in folder.iterdir()] == [out.name]  # nothing half-written left


def test_an_unknown_case_or_person_is_named(closed: None, session: Session) -> None:
    case = run("privacy", "subject-access", "--case", "HK-99999")
    person = run("privacy", "subject-access", "--person", "nobody@example.org")

    assert case.returncode == 1 and "Traceback" not in case.stderr
    assert "Error: There is no case HK-99999 in the register." in flat(case.stderr)
    assert person.returncode == 1 and "Traceback" not in person.stderr
    assert "Error: Nobody known as 'nobody@example.org' is held by auditround" in flat(
        person.stderr
    )
    assert listings(session) == []


def test_one_subject_must_be_given(closed: None) -> None:
    neither = run("privacy", "subject-access")
    both = run("privacy", "subject-access", "--case", "HK-00123", "--person", "amara-bello")

    for done in (neither, both):
        assert done.returncode == 2, done.stderr
        assert "give either --case REF or --person ID_OR_EMAIL" in flat(done.stderr)


def test_a_file_that_cannot_be_written_records_no_reading(
    closed: None, session: Session, tmp_path: Path
) -> None:
    out = tmp_path / "missing" / "sar.json"

    done = run("privacy", "subject-access", "--case", "HK-00123", "--out", str(out))

    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "could not be written" in flat(done.stderr) and "nothing was recorded" in flat(
        done.stderr
    )
    assert listings(session) == []
