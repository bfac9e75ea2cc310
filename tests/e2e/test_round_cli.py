"""``auditround round``: plan, show, swap-case and reassign as a coordinator types them."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from audit_core.cli import app
from audit_core.domain.errors import InvalidState, NotFound, PlanningError
from audit_core.domain.models import AuditRound, CaseFile, CaseInvolvement, RoundStatus
from audit_core.domain.policy import BoardConfig
from audit_core.services.reference import sync_reference_data
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

NOW = ["--now", "2026-03-02", "--as", "test:business-unit"]
PLAN = ["round", "plan", "--focus", "think-family", "--period", "2026-H1", "--seed", "11"]
AUDITROUND = Path(sys.executable).parent / "auditround"
CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture
def register(
    make_uow: Callable[..., UnitOfWork], session: Session, now: dt.datetime, cli_env: str
) -> None:
    """Three eligible Think Family cases in each area (pseudonymous references only)."""
    sync_reference_data(make_uow(actor="test"))
    agencies = {"hackney": ("hackney-csc", "met-police", "gp"), "city": ("city-cft", "gp", "camhs")}
    for area, prefix in (("hackney", "HK"), ("city", "CL")):
        for n, band in enumerate(("0-4", "5-10", "11-15")):
            case = CaseFile(
                area_id=area,
                reference=f"{prefix}-{n}",
                category="child_in_need",
                age_band=band,
                flags=["parental_mental_health"],
                last_activity_on=dt.date(2026, 2, 2),
                created_at=now,
                updated_at=now,
            )
            case.involvements = [CaseInvolvement(agency_id=a) for a in agencies[area]]
            session.add(case)
    session.commit()


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, [*NOW, *args])


def shown_text(round_id: str) -> str:
    """``round show`` as text, without the line breaks the terminal width puts in."""
    result = CliRunner().invoke(app, ["round", "show", round_id])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def run_installed(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed command, as a coordinator runs it (errors printed, exit non-zero)."""
    return subprocess.run(
        [str(AUDITROUND), *NOW, *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),  # cli_env points it at the test's database
        cwd=cwd,
        timeout=120,
    )


def show_json() -> dict[str, Any]:
    result = invoke("round", "show", "2026-H1", "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def test_plan_prints_a_summary_and_show_prints_the_plan(register: None) -> None:
    result = invoke(*PLAN, "--areas", "hackney,city", "--cases", "2")
    assert result.exit_code == 0, result.output
    assert "Round 2026-H1 planned" in result.output
    assert "4 cases (seed 11)" in result.output
    assert "Launch Tue 03/03/2026; returns due Tue 31/03/2026" in result.output

    shown = invoke("round", "show", "2026-H1")
    assert shown.exit_code == 0, shown.output
    for heading in ("Cases (4)", "Assignments by agency", "Load per auditor", "Timeline"):
        assert heading in shown.output
    assert "Thursday" in shown.output  # the audit day, 16/04/2026


def test_plan_and_show_speak_json(register: None) -> None:
    result = invoke(*PLAN, "--areas", "hackney", "--cases", "5", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["round"] == "2026-H1"
    assert data["areas"] == [{"area": "hackney", "requested": 5, "eligible": 3, "selected": 3}]
    assert data["warnings"] == [
        "Area hackney: only 3 eligible cases for the 5 asked, so 3 planned."
    ]
    shown = show_json()
    assert sorted(c["reference"] for c in shown["cases"]) == ["HK-0", "HK-1", "HK-2"]
    assert {a["agency"] for a in shown["assignments"]} == {"hackney-csc", "met-police", "gp"}
    assert shown["timeline"][-1]["what"] == "briefing due"


def test_the_environment_sets_the_clock_and_the_actor_and_options_win(
    register: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDITROUND_NOW", "2026-03-02")
    monkeypatch.setenv("AUDITROUND_ACTOR", "env:coordinator")
    result = CliRunner().invoke(app, [*PLAN, "--areas", "hackney"])
    assert result.exit_code == 0, result.output
    assert "Launch Tue 03/03/2026" in result.output  # the next working day after 02/03
    assert "planned by env:coordinator." in shown_text("2026-H1")
    monkeypatch.setenv("AUDITROUND_NOW", "2026-09-01")
    result = CliRunner().invoke(
        app, ["--now", "2026-07-01", "--as", "option:coordinator", *PLAN[:5], "2026-H2"]
    )
    assert result.exit_code == 0, result.output
    assert "Launch Thu 02/07/2026" in result.output
    assert "planned by option:coordinator." in shown_text("2026-H2")


def test_without_areas_the_round_covers_every_area_of_the_board(register: None) -> None:
    result = invoke(*PLAN, "--json")
    assert result.exit_code == 0, result.output
    assert [a["area"] for a in json.loads(result.output)["areas"]] == ["hackney", "city"]


def test_fewer_eligible_cases_than_asked_prints_a_warning(register: None) -> None:
    result = invoke(*PLAN, "--areas", "city", "--cases", "4")
    assert result.exit_code == 0, result.output
    assert "Warning: Area city: only 3 eligible cases for the 4 asked" in result.output


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (["--focus", "knife-crime"], NotFound, "There is no focus 'knife-crime'"),
        (["--areas", "hackney,islington"], NotFound, "There is no area 'islington'"),
        (["--period", "2026"], PlanningError, "'2026' is not a period"),
        (["--launch-on", "next week"], Exception, "--launch-on 'next week' is not a date"),
    ],
)
def test_a_wrong_plan_request_is_refused_with_one_sentence(
    register: None, args: list[str], error: type[Exception], message: str
) -> None:
    result = invoke(*PLAN, *args)
    assert result.exit_code != 0
    assert isinstance(result.exception, error)
    assert message in str(result.exception)


def test_a_period_already_planned_is_refused(register: None) -> None:
    assert invoke(*PLAN, "--areas", "hackney").exit_code == 0
    result = invoke(*PLAN, "--areas", "city")
    assert isinstance(result.exception, PlanningError)
    assert "Round 2026-H1 is already planned" in str(result.exception)


def test_swap_case_and_reassign_change_the_plan(register: None, config: BoardConfig) -> None:
    assert invoke(*PLAN, "--areas", "hackney", "--cases", "2").exit_code == 0
    chosen = {c["reference"] for c in show_json()["cases"]}
    [spare] = {"HK-0", "HK-1", "HK-2"} - chosen
    out = sorted(chosen)[0]
    result = invoke("round", "swap-case", "2026-H1", out, "--in", spare)
    assert result.exit_code == 0, result.output
    assert f"case {out} replaced by {spare}" in result.output
    assert {c["reference"] for c in show_json()["cases"]} == chosen - {out} | {spare}

    current = next(
        a for a in show_json()["assignments"] if a["case_ref"] == spare and a["agency"] == "gp"
    )
    other = next(
        a.id
        for a in config.auditors
        if a.agency == "gp" and "hackney" in a.areas and a.id != current["auditor"] and a.active
    )
    result = invoke("round", "reassign", "2026-H1", spare, "--agency", "gp", "--to", other)
    assert result.exit_code == 0, result.output
    assert f"{current['auditor']} -> {other}" in result.output
    result = invoke("round", "reassign", "2026-H1", spare, "--agency", "gp", "--clear", "--json")
    assert json.loads(result.output) == {
        "round": "2026-H1",
        "case_ref": spare,
        "agency": "gp",
        "from": other,
        "to": None,
    }
    assert any(u["case_ref"] == spare for u in show_json()["unfilled"])


def test_swap_and_reassign_are_refused_once_the_round_is_no_longer_planned(
    register: None, session: Session
) -> None:
    assert invoke(*PLAN, "--areas", "hackney", "--cases", "1").exit_code == 0
    [ref] = [c["reference"] for c in show_json()["cases"]]
    audit_round = session.get(AuditRound, "2026-H1")
    assert audit_round is not None
    audit_round.status = RoundStatus.OPEN
    session.commit()
    result = invoke("round", "swap-case", "2026-H1", ref)
    assert result.exit_code != 0
    assert isinstance(result.exception, InvalidState)
    assert "Round 2026-H1 is open, no longer in planning" in str(result.exception)
    # an open round's auditors change hands with emails (tests/e2e/test_fieldwork_cli.py);
    # after fieldwork, not at all
    audit_round.status = RoundStatus.MODERATION
    session.commit()
    result = invoke("round", "reassign", "2026-H1", ref, "--agency", "gp", "--clear")
    assert result.exit_code != 0
    assert isinstance(result.exception, InvalidState)
    assert "Round 2026-H1 is moderation, no longer in planning" in str(result.exception)


def test_reassign_needs_either_an_auditor_or_clear(register: None) -> None:
    assert invoke(*PLAN, "--areas", "hackney").exit_code == 0
    result = invoke("round", "reassign", "2026-H1", "HK-0", "--agency", "gp")
    assert "Give either --to AUDITOR or --clear." in str(result.exception)


# --- the hints the command line adds to a use case's refusal ---------------------------------


def test_a_focus_without_a_number_of_cases_for_an_area_names_the_option(
    register: None, tmp_path: Path
) -> None:
    narrow = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, narrow)
    focuses = narrow / "focuses.yaml"
    text = focuses.read_text(encoding="utf-8")
    assert text.count("cases_per_area: {hackney: 5, city: 3}") == 1
    focuses.write_text(text.replace("{hackney: 5, city: 3}", "{hackney: 5}"), encoding="utf-8")
    result = run_installed("--config", str(narrow), *PLAN, "--areas", "hackney,city", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    message = " ".join(result.stderr.split())
    assert "sets no number of cases for area 'city'" in message
    assert message.endswith("or give the number of cases. Use --cases N.")
    assert "Traceback" not in result.stdout + result.stderr
    result = run_installed(
        "--config", str(narrow), *PLAN, "--areas", "hackney,city", "--cases", "1", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr  # --cases settles it for every area


def test_a_swap_without_a_case_left_in_the_stratum_names_the_option(
    register: None, tmp_path: Path
) -> None:
    assert invoke(*PLAN, "--areas", "hackney", "--cases", "3").exit_code == 0  # one per stratum
    [out, *_] = sorted(c["reference"] for c in show_json()["cases"])
    result = run_installed("round", "swap-case", "2026-H1", out, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    message = " ".join(result.stderr.split())
    assert "No other eligible case is left in stratum" in message
    assert message.endswith("name the case to put in instead. Use --in CASE.")
    assert "Traceback" not in result.stdout + result.stderr


def test_one_case_is_one_case_in_what_the_command_prints(register: None) -> None:
    result = invoke(*PLAN, "--areas", "city", "--cases", "1")
    assert result.exit_code == 0, result.output
    assert "1 case (seed 11)" in result.output and "1 cases" not in result.output
