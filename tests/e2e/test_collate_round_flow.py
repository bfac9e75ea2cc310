"""The ``collate-round`` flow collates through audit_core and publishes a short report and
the grades by section, with no concern's description and no return's free text.

The first test calls what the flow runs (no Prefect server); the last runs the flow
itself against the session's Prefect test server.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from support.collation import CONCERN, collation_round
from support.trail import events

from audit_core.services.unit_of_work import UnitOfWork
from flows.collate_round import collate_round, grades_table, report_markdown, run_collation

pytestmark = pytest.mark.database


def test_the_report_and_the_table_carry_counts_but_no_description_or_free_text(
    uow: UnitOfWork, session: Session, cli_env: str
) -> None:
    collation_round(uow, session)

    collation = run_collation("2026-H1", now="2026-04-10T17:00")

    report = report_markdown(collation)
    assert "- returns submitted: 3; not received: 4" in report
    assert "- Information sharing: 2" in report and "- Think Family: 1" in report
    assert "- CT-00042 (city), City of London Police: declined" in report
    assert "- HK-00123 (hackney), Metropolitan Police (Central East BCU)" in report
    assert CONCERN not in report and "shared chronology" not in report
    rows = grades_table(collation)
    assert rows[0] == {
        "section": "Recognition of need and risk",
        "Outstanding": 1,
        "Good": 1,
        "Requires improvement": 1,
        "Inadequate": 0,
        "graded": 3,
        "mean score": 3.0,
    }
    assert [e.actor for e in events(session) if e.action == "round_collated"] == [
        "flow:collate-round"
    ]


def test_the_flow_publishes_the_report_and_the_grades_by_section(
    prefect_harness: None, uow: UnitOfWork, session: Session, cli_env: str
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    collation_round(uow, session)

    summary = collate_round(round_id="2026-H1", now="2026-04-10T17:00")

    assert summary["totals"] == {"cases": 3, "assignments": 7, "submitted": 3, "not_received": 4}
    assert "immediate_concerns" not in summary and "cases" not in summary
    keys = ["collation-2026-h1", "collation-grades-2026-h1"]
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys))
        )
    artifacts = {str(a.key): a for a in found}
    assert sorted(artifacts) == keys
    assert artifacts["collation-2026-h1"].type == "markdown"
    assert "# Round 2026-H1 collated (Think Family)" in str(artifacts["collation-2026-h1"].data)
    assert CONCERN not in str(artifacts["collation-2026-h1"].data)
    assert artifacts["collation-grades-2026-h1"].type == "table"
    assert "Recognition of need and risk" in str(artifacts["collation-grades-2026-h1"].data)
