"""The Prefect deployments carry the embedded scheduler's schedules, and the launch flow
launches a round on its day."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session
from support.rounds import planned_round

from audit_core.adapters.smtp_sink import Sink
from audit_core.domain.models import AuditRound, RoundStatus
from audit_core.domain.policy import BoardConfig
from audit_core.scheduler.service import job_specs
from audit_core.services.unit_of_work import UnitOfWork
from flows.deployments import deployments
from flows.launch_round import launch_due_rounds


def test_each_scheduled_job_is_a_deployment_with_the_same_schedule(
    config: BoardConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    from support import CONFIG_DIR

    monkeypatch.setenv("AUDITROUND_CONFIG", str(CONFIG_DIR))
    made = {d.name: d for d in deployments()}
    manual = ["collate-round", "issue-briefing", "year-report"]  # run by hand
    assert sorted(made) == sorted([*(spec.id for spec in job_specs(config)), *manual])
    assert made["collate-round"].schedules == []  # run by hand, for a round
    chase = made["chase-returns"].schedules[0].schedule
    assert (chase.cron, chase.timezone) == ("0 8 * * mon-fri", "Europe/London")
    follow_up = made["follow-up-actions"].schedules[0].schedule
    assert (follow_up.cron, follow_up.timezone) == ("30 8 * * mon-fri", "Europe/London")
    every_minute = made["dispatch-outbox"].schedules[0].schedule
    assert every_minute.interval == dt.timedelta(minutes=1)
    assert made["launch-rounds"].schedules[0].schedule.interval == dt.timedelta(minutes=15)
    purge = made["purge-expired-returns"].schedules[0].schedule
    assert (purge.cron, purge.timezone) == ("30 5 * * *", "Europe/London")  # every day


@pytest.mark.database
def test_the_launch_flow_launches_a_round_at_its_launch_time_and_not_before(
    prefect_harness: None, uow: UnitOfWork, session: Session, smtp_env: Sink
) -> None:
    planned_round(uow)  # planned to launch on Monday 2 March 2026; launch_time is 09:00
    session.commit()

    assert launch_due_rounds(now="2026-03-02T08:45") == []
    [launched] = launch_due_rounds(now="2026-03-02T09:00")
    assert launched["round"] == "2026-H1" and launched["launch"]["tasks_queued"] == 5
    assert launch_due_rounds(now="2026-03-02T09:15") == []
    session.expire_all()
    audit_round = session.get(AuditRound, "2026-H1")
    assert audit_round is not None and audit_round.status == RoundStatus.OPEN
    assert smtp_env.count == 8  # five tasks, two nomination requests, the summary


def test_the_deployments_register_with_a_process_work_pool_from_the_project_folder(
    prefect_harness: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from support import CONFIG_DIR

    from flows.deployments import PROJECT, deploy_all

    monkeypatch.setenv("AUDITROUND_CONFIG", str(CONFIG_DIR))
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="auditround-test", type="process"))
    ids = deploy_all("auditround-test")
    with get_client(sync_client=True) as client:
        made = {d.name: d for d in (client.read_deployment(i) for i in ids)}
        schedules = {name: client.read_deployment_schedules(d.id) for name, d in made.items()}
    jobs = [
        "chase-returns",
        "collate-round",
        "dispatch-outbox",
        "follow-up-actions",
        "issue-briefing",
        "launch-rounds",
        "purge-expired-returns",
        "year-report",
    ]
    assert sorted(made) == jobs
    assert schedules["collate-round"] == []
    assert {d.work_pool_name for d in made.values()} == {"auditround-test"}
    chase = schedules["chase-returns"][0].schedule
    assert (chase.cron, chase.timezone) == ("0 8 * * mon-fri", "Europe/London")
    # a process worker runs each flow in a temporary folder: it first changes into the project
    steps = made["chase-returns"].pull_steps or []
    assert any(str(PROJECT) in str(step) for step in steps), steps
