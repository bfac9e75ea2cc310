"""``auditround actions``: the lessons to act on, an action added (its owner emailed their
link), listed, updated, closed or dropped, and the action plan exported to CSV and XLSX,
through the installed command (the round: tests/support/briefing_rounds.py, at its
briefing on Monday 2 March 2026)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support.briefing_rounds import briefing_round
from support.cli import auditround
from support.trail import events

from audit_core.adapters.smtp_sink import Sink
from audit_core.domain.models import Action, Finding, FindingKind
from audit_core.services import actions
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database
FORMULA = '=HYPERLINK("https://example.org/x","Open the plan")'


def run(*args: str, now: str = "2026-03-02T10:00") -> subprocess.CompletedProcess[str]:
    return auditround(*args, now=now)


def flat(text: str) -> str:
    return " ".join(text.split())


def ok(*args: str, now: str = "2026-03-02T10:00") -> str:
    done = run(*args, now=now)
    assert done.returncode == 0, done.stderr
    return flat(done.stdout)


def refused(*args: str) -> str:
    done = run(*args)
    assert done.returncode == 1, done.stdout
    return flat(done.stderr)


def lesson_id(session: Session, theme: str) -> int:
    return session.scalars(
        select(Finding.id).where(Finding.kind == FindingKind.LESSON, Finding.theme_id == theme)
    ).one()


def action_count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Action)) or 0


@pytest.fixture
def at_briefing(uow: UnitOfWork, cli_env: str) -> None:
    briefing_round(uow)


@pytest.fixture
def two(at_briefing: None, uow: UnitOfWork, session: Session) -> tuple[int, int]:
    """Hackney's voice of the child (amara-bello, by default due 2 September) and the City's
    Think Family (eleanor-ashdown, due 16 March), made by the use case directly."""
    voice = actions.add(
        uow,
        lesson_id=lesson_id(session, "voice-of-the-child"),
        text="Every strategy meeting records the child's own words.",
        measure="A dip sample of ten plans shows the child's words in eight.",
        owner="amara-bello",
    )
    family = actions.add(
        uow,
        lesson_id=lesson_id(session, "think-family"),
        text=FORMULA,
        measure="+ one assessment a month of the adults' needs",
        owner="eleanor-ashdown",
        due_on=dt.date(2026, 3, 16),
    )
    session.commit()
    return voice.id, family.id


def test_the_lessons_to_act_on_are_listed_with_how_to_make_an_action(
    at_briefing: None, session: Session
) -> None:
    text = ok("actions", "lessons")
    assert "Lessons to act on (3)" in text
    assert "The children's own words were not recorded." in text
    assert "none yet" in text
    assert "Make an action from one: auditround actions add --lesson ID --text T" in text
    found: list[dict[str, Any]] = json.loads(
        run("actions", "lessons", "--area", "city", "--json").stdout
    )
    assert [(x["theme"], x["cases"], x["actions"]) for x in found] == [
        ("think-family", ["CT-00042"], [])
    ]
    assert found[0]["id"] == lesson_id(session, "think-family")


def test_an_action_is_added_and_its_owner_emailed_their_link(
    at_briefing: None, smtp_env: Sink, session: Session
) -> None:
    lesson = lesson_id(session, "voice-of-the-child")
    text = ok(
        "actions",
        "add",
        "--lesson",
        str(lesson),
        "--text",
        "Every strategy meeting records the child's own words.",
        "--measure",
        "A dip sample of ten plans shows the child's words in eight.",
        "--owner",
        "amara-bello",
    )
    assert (
        "Added action 1 (Voice of the child, round 2026-H1, Hackney): open, RAG green, due "
        "Wed 02/09/2026; owner Amara Bello (Hackney Children and Families Service)." in text
    )
    assert "Its owner's link to record progress is emailed to amara.bello@example.org." in text
    assert "Sent 1, to retry later 0, failed 0." in text
    (message,) = smtp_env.messages
    assert list(message.rcpt_tos) == ["amara.bello@example.org"]

    named = json.loads(
        ok(
            "actions",
            "add",
            "--lesson",
            str(lesson),
            "--text",
            "The GP practices ask about the children at every adult review.",
            "--measure",
            "The practice audit in August finds it asked in nine of ten reviews.",
            "--owner-name",
            "Dr Helen Marsh",
            "--owner-email",
            "helen.marsh@example.org",
            "--agency",
            "gp",
            "--due",
            "2026-07-31",
            "--json",
        ).replace("\n", " ")
    )
    assert named["action"]["owner"] == {
        "id": None,
        "name": "Dr Helen Marsh",
        "email": "helen.marsh@example.org",
    }
    assert (named["action"]["due_on"], named["dispatch"]["sent"]) == ("2026-07-31", 1)


def test_an_action_with_problems_is_refused_whole_and_nothing_is_written(
    at_briefing: None, smtp_env: Sink, session: Session
) -> None:
    lesson = str(lesson_id(session, "voice-of-the-child"))
    err = refused(
        "actions",
        "add",
        "--lesson",
        lesson,
        "--text",
        "Visit the family at E8 1DY.",
        "--measure",
        "",
        "--owner",
        "amara-bello",
        "--due",
        "2026-04-03",
    )
    assert "The action was not saved; nothing was written (3 problems):" in err
    assert "the action: text: this looks like it holds a postcode" in err and "E8 1DY" not in err
    assert "the action: measure: how will success be measured? It is missing" in err
    assert "the action: due_on: 2026-04-03 is a bank holiday (Good Friday)" in err
    assert "Traceback" not in err
    both = refused(
        "actions", "add", "--lesson", lesson, "--text", "T", "--measure", "M", "--owner",
        "amara-bello", "--agency", "gp",
    )  # fmt: skip
    assert "Give the owner by --owner PERSON, or by name, email and agency; not both." in both
    assert "Give the owner: --owner PERSON" in refused(
        "actions", "add", "--lesson", lesson, "--text", "T", "--measure", "M"
    )
    assert "--due '2 April' is not a date: use the form 2026-03-02." in refused(
        "actions", "add", "--lesson", lesson, "--text", "T", "--measure", "M", "--owner",
        "amara-bello", "--due", "2 April",
    )  # fmt: skip
    assert action_count(session) == 0
    assert smtp_env.messages == []


def test_the_list_shows_each_action_with_its_rag_for_today_and_filters(
    two: tuple[int, int],
) -> None:
    voice, family = two
    text = ok("actions", "list")
    assert "Actions (2)" in text
    assert "│ 2 │ 2026-H1 │ City of London │ Think Family │" in text
    assert "Mon 16/03/2026 │ open │ amber │ -" in text
    assert "Wed 02/09/2026 │ open │ green │ -" in text
    hackney = json.loads(run("actions", "list", "--area", "hackney", "--json").stdout)
    assert [a["id"] for a in hackney] == [voice]
    assert (
        json.loads(run("actions", "list", "--agency", "city-cft", "--json").stdout)[0]["id"]
        == family
    )
    late = json.loads(run("actions", "list", "--overdue", "--json", now="2026-03-17T09:00").stdout)
    assert [(a["id"], a["rag"]) for a in late] == [(family, "red")]
    assert ok("actions", "list", "--status", "done") == "No action matches."
    assert "There is no action status 'finished'" in refused(
        "actions", "list", "--status", "finished"
    )


def test_updates_and_closing_as_done_or_dropped_with_a_reason(
    two: tuple[int, int], session: Session
) -> None:
    voice, family = two
    text = ok(
        "actions", "update", str(voice), "--note", "Training booked.", "--status", "in_progress",
        "--evidence", "https://intranet.example.org/training", "--due", "2026-10-30",
    )  # fmt: skip
    assert (
        f"Updated action {voice} (Voice of the child, round 2026-H1, Hackney): in progress" in text
    )
    assert "due Fri 30/10/2026" in text
    text = ok("actions", "close", str(voice), "--done", "--note", "Audited in October.")
    assert (
        f"Closed action {voice} (Voice of the child, round 2026-H1, Hackney): done, RAG green"
        in text
    )
    again = refused("actions", "update", str(voice), "--note", "One more.")
    assert f"Action {voice} is done: it cannot become done." in again

    assert f"Action {family} can be dropped only with a reason. Use --reason TEXT." in refused(
        "actions", "close", str(family), "--drop"
    )
    assert "Give --done, or --drop with --reason TEXT." in refused(
        "actions", "close", str(family), "--done", "--drop"
    )
    dropped = ok(
        "actions", "close", str(family), "--drop", "--reason", "The service was recommissioned."
    )
    assert "dropped (The service was recommissioned.), RAG -" in dropped
    shown = json.loads(run("actions", "list", "--json").stdout)
    assert [(a["id"], a["status"], a["rag"]) for a in shown] == [
        (family, "dropped", "-"),
        (voice, "done", "green"),
    ]
    assert [u["note"] for u in shown[1]["updates"]] == ["Training booked.", "Audited in October."]
    assert "There is no action 99." in refused("actions", "update", "99", "--note", "Hello.")
    session.expire_all()
    kinds = [e.action for e in events(session, "action")]
    assert kinds == ["action_added"] * 2 + ["action_updated", "action_closed", "action_closed"]


def test_the_action_plan_exports_to_csv_and_xlsx_with_formulas_kept_as_text(
    two: tuple[int, int], tmp_path: Path, session: Session
) -> None:
    voice, family = two
    ok("actions", "update", str(voice), "--note", "=1+2 teams trained", "--status", "in_progress")
    path = tmp_path / "plan.csv"
    assert ok("actions", "export", str(path)) == f"Wrote the action plan (2 actions) to {path}."
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads the accents
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == [
        "Id", "Round", "Area", "Theme", "Action", "How success is measured", "Owner", "Agency",
        "Due", "Status", "RAG", "Last update",
    ]  # fmt: skip
    assert rows[1] == [
        str(family),
        "2026-H1",
        "City of London",
        "Think Family",
        "'" + FORMULA,
        "'+ one assessment a month of the adults' needs",
        "Eleanor Ashdown <eleanor.ashdown@example.org>",
        "City of London Children and Families Team",
        "2026-03-16",
        "open",
        "amber",
        "",
    ]
    assert rows[2][9:] == ["in progress", "green", "2026-03-02: =1+2 teams trained"]

    book_path = tmp_path / "plan.xlsx"
    ok("actions", "export", str(book_path), "--agency", "city-cft")
    sheet = load_workbook(book_path).active
    assert sheet is not None and sheet.title == "Action plan"
    cells = list(sheet.iter_rows(values_only=False))
    assert len(cells) == 2  # the headings and the City's one action
    action_cell = cells[1][4]
    assert (action_cell.value, action_cell.data_type) == ("'" + FORMULA, "s")
    assert all(c.data_type == "s" for row in cells for c in row if c.value is not None)

    assert "must end in .csv or .xlsx" in refused("actions", "export", str(tmp_path / "plan.pdf"))
    assert "does not exist or cannot be written to" in refused(
        "actions", "export", str(tmp_path / "missing" / "plan.csv")
    )
    session.expire_all()
    exported = [e.details for e in events(session, "action_plan")]
    no_filter = {"agency": None, "status": None, "round": None, "area": None, "overdue": False}
    assert exported == [
        {**no_filter, "format": "csv", "rows": 2},
        {**no_filter, "format": "xlsx", "rows": 1, "agency": "city-cft"},
    ]
