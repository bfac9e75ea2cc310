"""``auditround briefing``: drafted, written out, edited, approved by a second person and
issued through the installed command, as the business unit does it (the round:
tests/support/briefing_rounds.py, its audit day recorded)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.briefing_rounds import briefing_round, moderating_round
from support.cli import auditround

from audit_core.adapters.smtp_sink import Sink
from audit_core.domain.models import AuditRound, Briefing
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database
HACKNEY = ("--area", "hackney", "--round", "2026-H1")


def run(who: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return auditround(*args, now="2026-05-01T10:00", actor=who, cwd=cwd)


def flat(text: str) -> str:
    return " ".join(text.split())


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    return flat(done.stdout)


@pytest.fixture
def at_briefing(uow: UnitOfWork, cli_env: str) -> None:
    briefing_round(uow)


@pytest.fixture
def drafted(at_briefing: None) -> None:
    ok(run("alice", "briefing", "draft", *HACKNEY))


def test_a_draft_says_what_it_holds_and_how_to_read_and_edit_it(at_briefing: None) -> None:
    text = ok(run("alice", "briefing", "draft", *HACKNEY))
    assert (
        "Drafted version 1 of the Hackney briefing 2026-H1: 2 cases, 2 strengths and 2 lessons "
        "over 1 round." in text
    )
    assert "Read it: auditround briefing show --area hackney --round 2026-H1" in text
    assert "auditround briefing edit FILE.yaml --start --area hackney --round 2026-H1" in text

    again = ok(run("alice", "briefing", "draft", *HACKNEY))
    assert "Nothing new: version 1 of the Hackney briefing 2026-H1 (draft) holds this" in again


def test_the_file_written_reads_back_as_a_new_version_with_the_edits(
    drafted: None, tmp_path: Path, session: Session
) -> None:
    path = tmp_path / "hackney.yaml"
    text = ok(run("alice", "briefing", "edit", str(path), "--start", *HACKNEY))
    assert f"Wrote version 1 of the Hackney briefing 2026-H1 (draft) to {path}." in text
    written = path.read_text(encoding="utf-8")
    assert written.startswith("# Version 1 of the Hackney briefing 2026-H1 (draft).")
    assert "auditround briefing edit hackney.yaml --area hackney --round 2026-H1" in written
    data = yaml.safe_load(written)
    assert data["rounds"][0]["cases"][1]["label"] == "Case 2"

    data["introduction"] = "The audits found good practice:\nand some to learn from."
    data["rounds"][0]["lessons"][0]["prompts"].append("Did you ask the child?")
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    saved = ok(run("bob", "briefing", "edit", str(path), *HACKNEY, "--note", "an opening line"))

    assert "Saved version 2 of the Hackney briefing 2026-H1, a draft" in saved
    rows = session.scalars(select(Briefing).order_by(Briefing.version)).all()
    assert [(r.version, r.status, r.created_by, r.note) for r in rows] == [
        (1, "draft", "alice", "drafted from the audit day's record"),
        (2, "draft", "bob", "an opening line"),
    ]
    assert rows[1].content["introduction"] == data["introduction"]
    assert rows[1].content["rounds"][0]["lessons"][0]["prompts"][-1] == "Did you ask the child?"


def test_the_written_file_round_trips_unchanged(drafted: None, tmp_path: Path) -> None:
    path = tmp_path / "same.yaml"
    ok(run("alice", "briefing", "edit", str(path), "--start", *HACKNEY))
    text = ok(run("alice", "briefing", "edit", str(path), *HACKNEY))
    assert f"Nothing changed: {path} is version 1 of the Hackney briefing 2026-H1" in text
    refused = run("alice", "briefing", "edit", str(path), "--start", *HACKNEY)
    assert refused.returncode == 1
    assert "exists already: give another file, or --force" in flat(refused.stderr)


def test_a_bad_file_lists_every_problem_by_key_path_and_changes_nothing(
    drafted: None, tmp_path: Path, session: Session
) -> None:
    path = tmp_path / "bad.yaml"
    ok(run("alice", "briefing", "edit", str(path), "--start", *HACKNEY))
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    lesson = data["rounds"][0]["lessons"][1]
    lesson["links"][0]["url"] = "chscp.example.org/fathers"
    lesson["prompts"] = ["Do you ask?", 7]
    data["rounds"][0]["cases"][0]["summary"] = "Seen at E8 1DY after school."
    del data["title"]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    done = run("bob", "briefing", "edit", str(path), *HACKNEY)

    assert done.returncode == 1
    error = flat(done.stderr)
    assert "The briefing was not read; nothing was changed (4 problems):" in error
    assert f"{path}: title: missing" in error
    assert f"{path}: rounds[0].cases[0].summary: holds what looks like a postcode" in error
    assert "E8 1DY" not in error
    assert f"{path}: rounds[0].lessons[1].prompts[1]: expected text, got a number" in error
    assert (
        f"{path}: rounds[0].lessons[1].links[0].url: expected a web address starting http:// "
        "or https://" in error
    )
    assert len(session.scalars(select(Briefing)).all()) == 1


def test_a_file_that_is_not_yaml_is_named_with_its_line(drafted: None, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("title: CHSCP Case Audits\nrounds: [\n  - heading: x\n", encoding="utf-8")
    done = run("bob", "briefing", "edit", str(path), *HACKNEY)
    assert done.returncode == 1
    assert f"{path}: line " in flat(done.stderr) and "not valid YAML" in flat(done.stderr)


def test_the_writer_cannot_approve_and_another_person_can(drafted: None) -> None:
    refused = run("alice", "briefing", "approve", *HACKNEY)
    assert refused.returncode == 1
    assert (
        "Error: Version 1 of the Hackney briefing 2026-H1 was written by alice: someone else "
        "must approve it" in flat(refused.stderr)
    )

    text = ok(run("bob", "briefing", "approve", *HACKNEY, "--version", "1"))

    assert "Approved version 1 of the Hackney briefing 2026-H1 (by bob)." in text
    assert "Issue it: auditround briefing issue --area hackney --round 2026-H1" in text


def test_issuing_writes_both_layouts_emails_the_pdf_once_and_closes_the_round(
    drafted: None, smtp_env: Sink, tmp_path: Path, session: Session
) -> None:
    ok(run("bob", "briefing", "approve", *HACKNEY))
    out = tmp_path / "out"

    text = ok(run("carol", "briefing", "issue", *HACKNEY, "--out", str(out)))

    assert (
        "Issued version 1 of the Hackney briefing 2026-H1: emailed with its PDF to "
        "practice-learning@example.org, chscp.audits@example.org." in text
    )
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "briefing-hackney-2026-H1-seven-minute.html",
        "briefing-hackney-2026-H1-seven-minute.pdf",
        "briefing-hackney-2026-H1.html",
        "briefing-hackney-2026-H1.pdf",
    ]
    assert (out / "briefing-hackney-2026-H1.pdf").read_bytes().startswith(b"%PDF")
    assert "Sent 1, to retry later 0, failed 0." in text
    [received] = smtp_env.messages
    [attached] = list(received.parsed().iter_attachments())
    assert attached.get_content() == (out / "briefing-hackney-2026-H1.pdf").read_bytes()

    again = ok(run("carol", "briefing", "issue", *HACKNEY, "--out", str(out)))
    assert "was issued already, on" in again and "nothing was sent again" in again
    assert smtp_env.count == 1

    ok(run("alice", "briefing", "draft", "--area", "city", "--round", "2026-H1"))
    ok(run("bob", "briefing", "approve", "--area", "city", "--round", "2026-H1"))
    city_scope = ("--area", "city", "--round", "2026-H1")
    city = ok(run("carol", "briefing", "issue", *city_scope, "--out", str(out)))
    assert "Round 2026-H1 is closed: every area's briefing of it is issued." in city
    session.expire_all()
    audit_round = session.get(AuditRound, "2026-H1")
    assert audit_round is not None and audit_round.status == "closed"


def test_the_list_and_the_show_in_text_and_json(drafted: None) -> None:
    ok(run("bob", "briefing", "approve", *HACKNEY))
    listed = ok(run("alice", "briefing", "list"))
    assert "Briefings (1 version)" in listed
    assert "│ hackney │ 2026-H1 │ 1 │ approved │" in listed

    rows = json.loads(run("alice", "briefing", "list", "--area", "hackney", "--json").stdout)
    assert [(r["area"], r["scope"], r["version"], r["status"]) for r in rows] == [
        ("hackney", "2026-H1", 1, "approved")
    ]
    assert rows[0]["approved"]["by"] == "bob"

    shown = ok(run("alice", "briefing", "show", *HACKNEY))
    assert "Version 1 of the Hackney briefing 2026-H1 (approved); written by alice" in shown
    assert "(Case 1)" in shown and "Voice of the child" in shown
    data = json.loads(run("alice", "briefing", "show", *HACKNEY, "--json").stdout)
    assert data["content"]["rounds"][0]["cases"][0]["label"] == "Case 1"


def test_the_scope_must_be_rounds_or_a_year_and_its_rounds_at_their_briefing(
    uow: UnitOfWork, cli_env: str
) -> None:
    for scope in ((), ("--round", "2026-H1", "--year", "2026-27")):
        done = run("alice", "briefing", "draft", "--area", "hackney", *scope)
        assert done.returncode == 1
        assert "Give the rounds the briefing covers (--round ROUND, once or more) or its " in (
            flat(done.stderr)
        )
    moderating_round(uow)
    done = run("alice", "briefing", "draft", *HACKNEY)
    assert done.returncode == 1
    assert "Error: Round 2026-H1 is in moderation" in flat(done.stderr)
    bad_year = run("alice", "briefing", "draft", "--area", "hackney", "--year", "2026")
    assert "'2026' is not a board year: use the form 2026-27" in flat(bad_year.stderr)
