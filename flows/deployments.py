"""Every scheduled flow as a Prefect deployment, with the schedules of the embedded
scheduler (one list: :mod:`audit_core.domain.schedule`), in the board's zone; and the
flows run by hand (:data:`MANUAL`), as deployments with no schedule.

Two ways to run them on a Prefect server (``PREFECT_API_URL`` set):

- ``python -m flows.deployments serve``: this process runs the flows on their
  schedules; no work pool, no worker.
- ``python -m flows.deployments deploy --pool NAME``: register the deployments with a
  process work pool, whose workers (``prefect worker start --pool NAME --type
  process``) then run them. A process worker starts each run in a temporary folder,
  so each deployment's source is this project's folder (``from_source``): the run
  changes into it first, and finds ``config/`` and ``flows/`` there.

The application's settings (``AUDITROUND_DATABASE_URL``, the mail settings, ...) come
from the environment of the process that runs the flow: the serving process, or the
worker (the ``env`` job variable of the pool can set them too).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import Flow, serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron, Interval, Schedule

from audit_core.bootstrap import App
from audit_core.domain.schedule import Recurring, recurring_jobs
from flows.chase_returns import chase_returns
from flows.collate_round import collate_round
from flows.dispatch_outbox import dispatch_outbox
from flows.follow_up_actions import follow_up_actions
from flows.issue_briefing import issue_briefing
from flows.launch_round import launch_due_rounds
from flows.retention import purge_expired_returns
from flows.year_report import year_report_flow

PROJECT = Path(__file__).resolve().parent.parent
FLOWS: dict[str, tuple[Flow[..., Any], str]] = {  # job -> the flow and its entrypoint
    "dispatch-outbox": (dispatch_outbox, "flows/dispatch_outbox.py:dispatch_outbox"),
    "launch-rounds": (launch_due_rounds, "flows/launch_round.py:launch_due_rounds"),
    "chase-returns": (chase_returns, "flows/chase_returns.py:chase_returns"),
    "follow-up-actions": (follow_up_actions, "flows/follow_up_actions.py:follow_up_actions"),
    "purge-expired-returns": (purge_expired_returns, "flows/retention.py:purge_expired_returns"),
}
# Run by hand, with their parameters (the Prefect UI, or ``prefect deployment run``).
MANUAL: dict[str, tuple[Flow[..., Any], str]] = {
    "collate-round": (collate_round, "flows/collate_round.py:collate_round"),
    "issue-briefing": (issue_briefing, "flows/issue_briefing.py:issue_briefing"),
    "year-report": (year_report_flow, "flows/year_report.py:year_report_flow"),
}


@dataclass(frozen=True)
class Planned:
    name: str
    flow: Flow[..., Any]
    entrypoint: str
    schedule: Schedule | None  # None: run by hand


def schedule_of(job: Recurring, timezone: str) -> Schedule:
    if job.every_minutes is not None:
        return Interval(job.every_minutes * 60, timezone="UTC")  # real time, like APScheduler's
    return Cron(job.cron(), timezone=timezone)


def planned() -> list[Planned]:
    """Every deployment, from the configuration in the environment (``AUDITROUND_CONFIG``)."""
    app = App.from_env()
    config = app.config()
    scheduled = [
        Planned(job.job, *FLOWS[job.job], schedule_of(job, config.board.timezone))
        for job in recurring_jobs(config)
    ]
    return scheduled + [Planned(name, *made, None) for name, made in MANUAL.items()]


def deployments() -> list[RunnerDeployment]:
    """The deployments ``serve`` runs (called outside an event loop, Prefect's methods
    return their results, not coroutines)."""
    made = [p.flow.to_deployment(name=p.name, schedule=p.schedule) for p in planned()]
    return [d for d in made if isinstance(d, RunnerDeployment)]


def serve_all() -> None:
    serve(*deployments())


def deploy_all(pool: str) -> list[str]:
    """Register every deployment with the process work pool ``pool``; their ids."""
    ids = []
    for p in planned():
        source = p.flow.from_source(source=str(PROJECT), entrypoint=p.entrypoint)
        assert isinstance(source, Flow)
        ids.append(str(source.deploy(name=p.name, work_pool_name=pool, schedule=p.schedule)))
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve or deploy the scheduled flows.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the flows on their schedules in this process")
    deploy = sub.add_parser("deploy", help="register them with a process work pool")
    deploy.add_argument("--pool", required=True)
    args = parser.parse_args()
    if args.command == "serve":
        serve_all()
    else:
        for deployment_id in deploy_all(args.pool):
            print(deployment_id)


if __name__ == "__main__":
    main()
