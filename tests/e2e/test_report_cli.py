"""``auditround report year``: the board year's report through the installed command, its
files written and its figures printed (the year: tests/support/year_rounds.py, Hackney's
two rounds of 2026-27 with their returns and audit days)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support.cli import auditround, flat
from support.year_rounds import H1, H2, run_round

from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return auditround(*args, now="2026-11-20T10:00")


@pytest.fixture
def year(uow: UnitOfWork, cli_env: str) -> None:
    run_round(uow, H1)
    run_round(uow, H2)


def test_the_report_is_written_and_its_main_figures_printed(year: None, tmp_path: Path) -> None:
    out = tmp_path / "out"

    done = run("report", "year", "2026-27", "--area", "hackney", "--out", str(out))

    assert done.returncode == 0, done.stderr
    said = flat(done.stdout)
    assert (
        "Year 2026-27 in Hackney (01/04/2026 to 31/03/2027): 2 rounds, 3 cases, 3 of 4 returns "
        "submitted." in said
    )
    assert "2026-H1 Think Family 13/04/2026 briefing 2 1 1 1 2" in said
    assert "Most frequent lessons: Engagement with fathers and significant others 2" in said
    assert sorted(p.name for p in out.iterdir()) == [
        "year-report-2026-27-hackney.html",
        "year-report-2026-27-hackney.pdf",
    ]
    assert (out / "year-report-2026-27-hackney.pdf").read_bytes().startswith(b"%PDF-")


def test_json_gives_every_figure_and_the_files(year: None, tmp_path: Path) -> None:
    done = run("report", "year", "2026-27", "--out", str(tmp_path), "--json")

    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["area"] is None and data["totals"]["rounds"] == 2
    assert data["returns"][0] == {
        "round": "2026-H1",
        "audits": 4,
        "on_time": 2,
        "late": 1,
        "not_submitted": 1,
        "escalated": 2,
    }
    assert data["well_established_findings"] == [
        {
            "round": "2026-H2",
            "theme": "engaging-fathers",
            "name": "Engagement with fathers and significant others",
        }
    ]
    assert [Path(f).name for f in data["files"]] == [
        "year-report-2026-27.html",
        "year-report-2026-27.pdf",
    ]


def test_a_year_with_no_round_and_a_year_mistyped_are_named(year: None, tmp_path: Path) -> None:
    out = tmp_path / "out"
    empty = run("report", "year", "2025-26", "--out", str(out))
    mistyped = run("report", "year", "2026", "--out", str(out))

    assert empty.returncode != 0 and "Traceback" not in empty.stderr
    assert "No round was launched in 2025-26 (1 April 2025 to 31 March 2026)" in flat(empty.stderr)
    assert mistyped.returncode != 0
    assert "'2026' is not a board year: use the form 2026-27" in flat(mistyped.stderr)
    assert list(out.iterdir()) == []  # nothing written
