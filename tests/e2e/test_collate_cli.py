"""``auditround round collate``: a round's returns collated for its audit day, as tables and
as JSON (the round: tests/support/collation.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from support.collation import CONCERN, collation_round
from support.rounds import launched_round, planned_round
from support.trail import events
from typer.testing import CliRunner

from audit_core.cli import app as cli
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database
AUDITROUND = Path(sys.executable).parent / "auditround"
NOW = ("--now", "2026-04-10T17:00", "--as", "alice")


def installed(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, in a terminal 200 characters wide."""
    return subprocess.run(
        [str(AUDITROUND), *NOW, *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def collated(uow: UnitOfWork, session: Session, cli_env: str) -> None:
    collation_round(uow, session)
    code = CliRunner().invoke(cli, [*NOW, "round", "lock", "2026-H1"]).exit_code
    assert code == 0


def test_the_tables_show_grades_cases_themes_what_is_missing_and_concerns(
    collated: None, session: Session
) -> None:
    done = installed("round", "collate", "2026-H1")
    assert done.returncode == 0, done.stderr
    text = flat(done.stdout)
    assert (
        "Round 2026-H1: Think Family - moderation; 3 of 7 returns submitted, 4 not received, "
        "over 3 cases." in text
    )
    assert "Ofsted four-point scale scores (Outstanding 4, Good 3, Requires improvement 2" in text
    assert "Grades by section (3 returns)" in text
    assert "│ Recognition of need and risk │ 1 │ 1 │ 1 │ 0 │ 3 │ 3.00 │" in text
    assert "│ Assessment │ 0 │ 2 │ 1 │ 0 │ 3 │ 2.67 │" in text
    assert (
        "Metropolitan Police (Central East BCU) (1 return) │ Recognition of need and risk" in text
    )
    assert "│ Requires improvement 1 │ 2.00 │" in text
    assert "Case HK-00123 (Hackney)" in text
    assert "not received: unfilled" in text and "not received: declined" in text
    assert "│ Information sharing │ 2 │ HK-00123, Hackney Children and Families Service: a " in text
    assert "│ Think Family │ 1 │ CT-00042," in text
    assert "Not received (4)" in text
    assert (
        "│ HK-00456 │ hackney │ Health Visiting and School Nursing │ Fatima El-Amin │ draft" in text
    )
    assert "Immediate concerns raised (1): for the business unit only" in text
    assert f"DS Sarah Chukwuma │ {CONCERN} │" in text
    assert [e.actor for e in events(session) if e.action == "round_collated"] == ["alice"]


def test_the_json_has_every_figure_and_marks_the_concerns_for_the_business_unit(
    collated: None,
) -> None:
    result = CliRunner().invoke(cli, [*NOW, "round", "collate", "2026-H1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["round"] == "2026-H1" and data["status"] == "moderation"
    assert data["totals"] == {"cases": 3, "assignments": 7, "submitted": 3, "not_received": 4}
    recognition = data["grades_by_section"][0]
    assert recognition["counts"] == {
        "outstanding": 1,
        "good": 1,
        "requires-improvement": 1,
        "inadequate": 0,
    }
    assert recognition["mean_score"] == 3.0
    assert [a["agency"] for a in data["grades_by_agency"]] == [
        "city-cft",
        "hackney-csc",
        "met-police",
    ]
    hk = next(c for c in data["cases"] if c["case_ref"] == "HK-00123")
    assert [(a["agency"], a["received"]) for a in hk["agencies"]] == [
        ("gp", False),
        ("hackney-csc", True),
        ("met-police", True),
    ]
    assert hk["agencies"][2]["grades"]["overall"] == "requires-improvement"
    [sharing] = data["strengths_by_theme"]
    assert (sharing["theme"], sharing["name"], sharing["count"]) == (
        "information-sharing",
        "Information sharing",
        2,
    )
    assert sharing["entries"][0] == {
        "text": "Health and police shared what they knew within a day.",
        "key_phrase": "a shared chronology",
        "case_ref": "HK-00123",
        "area": "hackney",
        "agency": "hackney-csc",
    }
    assert [t["theme"] for t in data["lessons_by_theme"]] == ["voice-of-the-child", "think-family"]
    assert [(n["agency"], n["state"]) for n in data["not_received"]] == [
        ("city-police", "declined"),
        ("gp", "unfilled"),
        ("health-visiting", "draft"),
        ("housing", "unfilled"),
    ]
    concerns = data["immediate_concerns"]
    assert concerns["business_unit_only"] is True and "business unit only" in concerns["note"]
    assert concerns["raised"] == [
        {
            "case_ref": "HK-00123",
            "area": "hackney",
            "agency": "met-police",
            "auditor": "sarah-chukwuma",
            "description": CONCERN,
        }
    ]


def test_a_round_with_no_return_in_says_so_and_lists_every_audit_as_not_received(
    uow: UnitOfWork, cli_env: str
) -> None:
    planned_round(uow)
    launched_round(uow)
    done = installed("round", "collate", "2026-H1")
    assert done.returncode == 0, done.stderr
    text = flat(done.stdout)
    assert "0 of 7 returns submitted, 7 not received" in text
    assert "The round is still open: more returns may come in." in text
    assert "No return has been submitted yet." in text and "Grades by section" not in text
    assert "Not received (7)" in text
    assert "No immediate concern was raised in a submitted return." in text


def test_an_unknown_round_is_one_sentence_and_exit_code_1(cli_env: str) -> None:
    done = installed("round", "collate", "2025-H2")
    assert done.returncode == 1
    assert flat(done.stderr) == "Error: There is no round 2025-H2: it has not been planned."
    assert done.stdout == ""
