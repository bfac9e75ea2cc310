"""The ``issue-briefing`` flow issues an approved briefing through the composition root and
publishes where its files are, with none of the briefing's text.

The first test calls what the flow runs (no Prefect server); the last runs the flow itself
against the session's Prefect test server.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from support.briefing_rounds import SUMMARIES, briefing_round
from support.trail import events

from audit_core.adapters.smtp_sink import Sink
from audit_core.domain.briefing_scope import parse_scope
from audit_core.services import briefings
from audit_core.services.unit_of_work import UnitOfWork
from flows.issue_briefing import artifact_key, issue_briefing, report_markdown, run_issue

pytestmark = pytest.mark.database
H1 = parse_scope(["2026-H1"])


@pytest.fixture
def approved(make_uow: Callable[..., UnitOfWork], session: Session, smtp_env: Sink) -> None:
    briefing_round(make_uow("test"))
    briefings.draft(make_uow("alice"), "hackney", H1)
    briefings.approve(make_uow("bob"), "hackney", H1)
    session.commit()


def test_the_report_says_what_was_issued_and_where_and_holds_no_case_text(
    approved: None, smtp_env: Sink, tmp_path: Path, session: Session
) -> None:
    issued, files, sent = run_issue("hackney", ["2026-H1"], out=str(tmp_path / "out"))

    report = report_markdown(issued, files, sent)
    assert report.startswith("# CHSCP Case Audits: Hackney, January to June 2026 (version 1)")
    assert "- issued " in report and "by flow:issue-briefing" in report
    assert "- scope: 2026-H1 (rounds 2026-H1)" in report
    assert "- approved by bob; written by alice" in report
    assert "- emailed to: practice-learning@example.org, chscp.audits@example.org (sent 1)" in (
        report
    )
    assert f"- `{(tmp_path / 'out' / 'briefing-hackney-2026-H1.pdf').resolve()}`" in report
    assert all(summary not in report for summary in SUMMARIES.values())
    assert "shared chronology" not in report
    assert smtp_env.count == 1
    [event] = [e for e in events(session, "briefing") if e.action == "briefing_issued"]
    assert event.actor == "flow:issue-briefing"

    again, files, sent = run_issue("hackney", ["2026-H1"], out=str(tmp_path / "out"))
    assert again.already_issued and sent.sent == 0 and smtp_env.count == 1
    assert "issued already" in report_markdown(again, files, sent)


def test_the_artifact_key_is_one_prefect_takes() -> None:
    assert artifact_key("hackney", "2026-H1+2026-H2") == "briefing-hackney-2026-h1-2026-h2"


def test_the_flow_issues_and_publishes_its_report(
    prefect_harness: None, approved: None, smtp_env: Sink, tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    summary = issue_briefing(area="hackney", rounds=["2026-H1"], out=str(tmp_path))

    assert summary["briefing"]["status"] == "issued" and summary["emailed_to"]
    assert len(summary["files"]) == 4 and summary["dispatch"] == {"sent": 1, "failed": 0}
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["briefing-hackney-2026-h1"]))
        )
    assert artifact.type == "markdown"
    assert "CHSCP Case Audits: Hackney, January to June 2026 (version 1)" in str(artifact.data)
