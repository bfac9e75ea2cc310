"""``auditround round moderate``: the audit day's file written with --start, filled in and
recorded, through the installed command (the round: tests/support/collation.py, its
returns closed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.orm import Session
from support.collation import collation_round
from support.trail import events
from typer.testing import CliRunner

from audit_core.cli import app as cli
from audit_core.domain.models import AuditRound
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database
AUDITROUND = Path(sys.executable).parent / "auditround"
NOW = ("--now", "2026-04-15T14:00", "--as", "amara-bello")


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


def status(session: Session) -> str:
    session.expire_all()
    audit_round = session.get(AuditRound, "2026-H1")
    assert audit_round is not None
    return audit_round.status


@pytest.fixture
def moderating(uow: UnitOfWork, session: Session, cli_env: str) -> None:
    collation_round(uow, session)
    code = CliRunner().invoke(cli, [*NOW, "round", "lock", "2026-H1"]).exit_code
    assert code == 0


@pytest.fixture
def started(moderating: None, tmp_path: Path) -> Path:
    path = tmp_path / "2026-H1-audit-day.yaml"
    done = installed("round", "moderate", "2026-H1", str(path), "--start")
    assert done.returncode == 0, done.stderr
    assert (
        f"Wrote {path} for round 2026-H1: 3 cases (0 agreed so far), 2 strengths and 2 lessons "
        "(4 not decided yet)." in flat(done.stdout)
    )
    return path


def complete(data: dict[str, Any]) -> dict[str, Any]:
    """The file's data as the audit day leaves it: every case agreed, every finding decided."""
    for case in data["cases"]:
        case["agreed_grade"] = "good"
        case["key_findings"] = "Information was shared well; the child's voice was missing."
        case["summary"] = "A nine year old living with a parent with low mood."
    for finding in data["strengths"] + data["lessons"]:
        finding["forward"] = True
    return data


def test_start_writes_a_file_to_fill_in_with_what_the_returns_said(started: Path) -> None:
    text = started.read_text(encoding="utf-8")
    assert "#     auditround round moderate 2026-H1 2026-H1-audit-day.yaml" in text
    assert "outstanding (Outstanding), good (Good)," in text
    assert "requires-improvement (Requires improvement), inadequate (Inadequate)" in text
    assert "information-sharing (Information sharing)" in text
    assert "  - case: HK-00123\n    area: hackney\n    agreed_grade:\n" in text
    assert '# GP practices (North East London ICB)\n      gp: "not received: unfilled"' in text
    assert "      hackney-csc: {recognition: outstanding, assessment: good," in text
    assert "    key_phrase: a shared chronology\n" in text
    assert "    cases: [HK-00123]\n    agencies: [met-police]\n    forward:\n" in text
    assert started.stat().st_mode & 0o077 == 0  # the returns' words: its owner's alone
    data = yaml.safe_load(text)
    assert [c["case"] for c in data["cases"]] == ["CT-00042", "HK-00123", "HK-00456"]
    assert [f["forward"] for f in data["strengths"] + data["lessons"]] == [None] * 4


def test_a_file_filled_in_part_by_part_is_recorded_then_completes_moderation(
    started: Path, session: Session
) -> None:
    text = started.read_text(encoding="utf-8")
    started.write_text(
        text.replace("agreed_grade:\n", "agreed_grade: good\n", 1).replace(
            'key_findings: ""', 'key_findings: "Good joint working."', 1
        ),
        encoding="utf-8",
    )
    done = installed("round", "moderate", "2026-H1", str(started))
    assert done.returncode == 0, done.stderr
    out = flat(done.stdout)
    assert f"Round 2026-H1: the audit day is recorded from {started}." in out
    assert "Cases: 1 of 3 cases with an agreed grade; changed: CT-00042." in out
    assert "Findings: 4 recorded (replaced): 0 go forward to the briefing" in out
    assert "Still missing (8)" in out and "│ cases[1].agreed_grade │ Case HK-00123" in out
    assert "Round 2026-H1 stays in moderation until nothing is missing." in out
    assert status(session) == "moderation"

    started.write_text(yaml.safe_dump(complete(yaml.safe_load(started.read_text()))))
    done = installed("round", "moderate", "2026-H1", str(started))
    assert done.returncode == 0, done.stderr
    out = flat(done.stdout)
    assert "Findings: 4 recorded (replaced): 4 go forward to the briefing" in out
    assert "Moderation is complete: round 2026-H1 moved to briefing." in out
    assert status(session) == "briefing"
    recorded = [e.action for e in events(session) if e.action.startswith(("audit_day", "round_"))]
    assert recorded[-3:] == ["audit_day_recorded", "audit_day_recorded", "round_moved_to_briefing"]

    again = CliRunner().invoke(cli, [*NOW, "round", "moderate", "2026-H1", str(started), "--json"])
    assert again.exit_code == 0, again.output
    data = json.loads(again.stdout)
    assert (data["changed"], data["complete"], data["status"]) == (False, True, "briefing")


def test_start_refuses_to_write_over_a_file_unless_forced_and_keeps_what_is_recorded(
    started: Path,
) -> None:
    started.write_text(yaml.safe_dump(complete(yaml.safe_load(started.read_text()))))
    assert installed("round", "moderate", "2026-H1", str(started)).returncode == 0
    done = installed("round", "moderate", "2026-H1", str(started), "--start")
    assert done.returncode == 1
    assert f"{started} exists already: give another file, or --force" in flat(done.stderr)
    done = installed("round", "moderate", "2026-H1", str(started), "--start", "--force")
    assert done.returncode == 0, done.stderr
    data = yaml.safe_load(started.read_text())
    assert {c["agreed_grade"] for c in data["cases"]} == {"good"}
    assert {f["forward"] for f in data["strengths"] + data["lessons"]} == {True}


def test_a_broken_yaml_file_names_the_file_its_line_and_why(
    started: Path, session: Session
) -> None:
    lines = started.read_text().splitlines()
    at = lines.index("  - case: HK-00123")
    lines[at + 2] = "   agreed_grade: good"  # one space short
    started.write_text("\n".join(lines) + "\n")
    done = installed("round", "moderate", "2026-H1", str(started))
    assert done.returncode == 1
    error = flat(done.stderr)
    assert "The audit day was not recorded; nothing was written (1 problem):" in error
    assert f"{started}: line {at + 3}, column 4: not valid YAML" in error
    assert "Traceback" not in done.stderr
    assert not [e for e in events(session) if e.action == "audit_day_recorded"]


def test_values_the_record_cannot_take_are_named_with_their_key_path_and_line(
    started: Path, session: Session
) -> None:
    lines = started.read_text().splitlines()
    at = lines.index("  - case: HK-00123")
    lines[at + 2] = "    agreed_grade: excellent"
    lines.insert(at + 3, "    outcome: better")
    started.write_text("\n".join(lines) + "\n")
    done = installed("round", "moderate", "2026-H1", str(started))
    assert done.returncode == 1
    error = flat(done.stderr)
    assert (
        f"{started}: cases[1].outcome (line {at + 4}): unknown key (check the spelling); "
        "expected one of: case, area, agreed_grade" in error
    )
    lines.pop(at + 3)
    started.write_text("\n".join(lines) + "\n")
    done = installed("round", "moderate", "2026-H1", str(started))
    assert done.returncode == 1
    assert (
        f"{started}: cases[1].agreed_grade (line {at + 3}): 'excellent' is not a grade of the "
        "scale; one of: outstanding, good, requires-improvement, inadequate" in flat(done.stderr)
    )
    assert not [e for e in events(session) if e.action == "audit_day_recorded"]


def test_a_round_still_open_has_no_audit_day_yet(
    uow: UnitOfWork, session: Session, cli_env: str, tmp_path: Path
) -> None:
    collation_round(uow, session)
    done = installed("round", "moderate", "2026-H1", str(tmp_path / "day.yaml"), "--start")
    assert done.returncode == 1
    assert "Round 2026-H1 is open: its audit day can be recorded only once" in flat(done.stderr)
    assert not (tmp_path / "day.yaml").exists()
