"""The ``year-report`` flow writes the board year's report through the composition root and
publishes its figures, with no case or person in them (the year: tests/support/year_rounds.py,
Hackney's two rounds of 2026-27 and the City's case in the first).

The first test calls what the flow runs (no Prefect server); the last runs the flow itself
against the session's Prefect test server.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from support.trail import events
from support.year_rounds import H1, H2, run_round

from audit_core.services.unit_of_work import UnitOfWork
from flows.year_report import artifact_key, report_markdown, run_report, year_report_flow

pytestmark = pytest.mark.database
NOW = "2026-11-20T10:00"


@pytest.fixture
def year(uow: UnitOfWork, cli_env: str) -> None:
    run_round(uow, H1)
    run_round(uow, H2)


def test_the_report_gives_the_year_in_figures_and_where_its_files_are(
    year: None, tmp_path: Path, session: Session
) -> None:
    report, files = run_report("2026-27", "hackney", str(tmp_path / "out"), NOW)

    markdown = report_markdown(report, files)
    assert markdown.startswith("# Year report 2026-27: Hackney")
    assert "2 rounds, 3 cases, 3 of 4 returns in." in markdown
    assert "| 2026-H1 | Think Family | 2 | 1 | 1 | 1 | 2 |" in markdown  # one late, one missing
    assert "| 2026-H2 | Early help | 1 | 1 | 0 | 0 | 0 |" in markdown
    assert f"- `{(tmp_path / 'out' / 'year-report-2026-27-hackney.pdf').resolve()}`" in markdown
    assert "HK-00123" not in markdown and "Amara" not in markdown
    assert [e.actor for e in events(session) if e.action == "year_report_made"] == [
        "flow:year-report"
    ]


def test_the_artifact_key_is_one_prefect_takes() -> None:
    assert artifact_key("2026-27", None) == "year-report-2026-27-all"
    assert artifact_key("2026-27", "hackney") == "year-report-2026-27-hackney"


def test_the_flow_writes_the_report_and_publishes_it(
    prefect_harness: None, year: None, tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    summary = year_report_flow(year="2026-27", out=str(tmp_path), now=NOW)

    assert summary["totals"]["rounds"] == 2 and summary["totals"]["cases"] == 4
    assert sorted(Path(p).name for p in summary["files"]) == [
        "year-report-2026-27.html",
        "year-report-2026-27.pdf",
    ]
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["year-report-2026-27-all"]))
        )
    assert artifact.type == "markdown"
    assert "# Year report 2026-27" in str(artifact.data)
