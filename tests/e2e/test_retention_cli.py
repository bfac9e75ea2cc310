"""``auditround retention run`` through the installed command, and the flow
``purge-expired-returns`` with the table it publishes, on the round of
:func:`support.retention_rounds.closed_round` (closed on 20 April 2026, kept 24 months)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support import CONFIG_DIR
from support.cli import auditround, flat
from support.retention_rounds import CONCERN, closed_round, day

from audit_core.adapters.settings import SmtpSettings
from audit_core.bootstrap import App
from audit_core.domain.models import AuditReturn
from audit_core.services.ports import BriefingRenderer
from audit_core.services.unit_of_work import UnitOfWork
from flows.retention import purge_expired_returns, purge_table, run_purge

pytestmark = pytest.mark.database


def run(now: str, *args: str) -> subprocess.CompletedProcess[str]:
    return auditround(*args, now=now)


def concerns_held(session: Session) -> list[str | None]:
    session.expire_all()
    return [r.concern_text for r in session.scalars(select(AuditReturn)) if r.immediate_concern]


@pytest.fixture
def closed(
    uow: UnitOfWork,
    make_app: Callable[..., App],
    mail_settings: SmtpSettings,
    cli_env: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUDITROUND_CONFIG", str(CONFIG_DIR))
    renderer: BriefingRenderer = make_app().briefing_renderer()
    closed_round(uow, renderer, make_app(mail_settings, at=day(4, 22)))


def test_a_dry_run_says_what_would_go_and_changes_nothing(closed: None, session: Session) -> None:
    done = run("2028-04-20T05:30", "retention", "run", "--dry-run")

    assert done.returncode == 0, done.stderr
    said = flat(done.stdout)
    assert (
        "Thursday 20 April 2028: 1 round would be purged (returns are kept 24 months after "
        "their round ends)." in said
    )
    assert "2026-H1 20/04/2026 (closed) 20/04/2028 4 10 1 1 1 3 14" in said
    assert "Nothing was changed (--dry-run)." in said
    assert concerns_held(session) == [CONCERN]


def test_it_purges_once_and_the_trail_still_verifies(closed: None, session: Session) -> None:
    early = run("2028-04-19T12:00", "retention", "run")
    done = run("2028-04-20T05:30", "retention", "run")
    again = run("2028-04-21T05:30", "retention", "run", "--json")
    verified = run("2028-04-21T06:00", "audit", "verify")

    assert early.returncode == 0, early.stderr
    assert "Wednesday 19 April 2028: nothing to purge" in flat(early.stdout)
    assert "Round 2026-H1 ended on 20/04/2026: purged from 20/04/2028." in flat(early.stdout)
    assert done.returncode == 0, done.stderr
    assert "Thursday 20 April 2028: 1 round purged" in flat(done.stdout)
    assert concerns_held(session) == [None]
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert (data["dry_run"], data["rounds"], data["waiting"]) == (False, [], [])
    assert set(data["totals"].values()) == {0}
    assert verified.returncode == 0, verified.stderr


def test_the_flow_purges_and_publishes_the_counts_only(
    prefect_harness: None, closed: None, session: Session
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    preview = run_purge(now="2028-04-20T05:30", dry_run=True)
    assert [r["returns"] for r in purge_table(preview)] == [4]
    assert concerns_held(session) == [CONCERN]

    result = purge_expired_returns(now="2028-04-20T05:30")

    assert [r["round"] for r in result["rounds"]] == ["2026-H1"]
    assert concerns_held(session) == [None]
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["purge-expired-returns-2028-04-20"])
            )
        )
    assert artifact.type == "table"
    assert "2026-H1" in str(artifact.data) and CONCERN not in str(artifact.data)
    assert purge_expired_returns.name == "purge-expired-returns"
