"""The scale-out deployment, as an operator sets it up (docs/operations.md, "Scale-out"):
a Prefect server on PostgreSQL, a process work pool, the deployments registered with
``python -m flows.deployments deploy --pool NAME``, and process workers with the
application's settings, on a PostgreSQL application database and a local SMTP sink.

The flows run as the schedules would run them, but started through the Prefect API
(``run_deployment``) with the moment they act at as their ``now`` parameter. Every email
arrives once: in the normal course, and when a worker is killed in the middle of a
launch and another one finishes it.

Needs PostgreSQL (``AUDITROUND_TEST_DATABASE_URL``, whose server gets the test's own
databases); not in the default run: ``.venv/bin/pytest -m scale_out``, as ``.ci/run`` does.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prefect.client.schemas.objects import FlowRun
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from support import CONFIG_DIR, LONDON, MAIL_FROM, PUBLIC_URL
from support.briefing_rounds import SECOND_CASES, SECOND_FINDINGS, briefing_round
from support.databases import empty_database
from support.rounds import CaseSpec, planned_round
from support.scale_out import HoldingHandler, Server, Workers, prefect_server, wait_until

from audit_core.adapters import db
from audit_core.adapters.mail_render import EmailComposer
from audit_core.adapters.smtp_sink import Sink, SinkHandler
from audit_core.bootstrap import App
from audit_core.domain.models import (
    ActionChaseStep,
    AuditRound,
    ChaseRecord,
    OutboxMessage,
    OutboxStatus,
    RoundStatus,
)
from audit_core.domain.policy import BoardConfig
from audit_core.services.actions import lessons_to_act_on
from audit_core.services.ports import Mail
from audit_core.services.unit_of_work import UnitOfWork
from flows.deployments import FLOWS, MANUAL

pytestmark = pytest.mark.scale_out

POOL = "auditround"
QUEUE = "test-runs"  # the test's runs, and the only queue its workers serve
RUN_SECONDS = 180  # a flow run's start, in a fresh process, can be slow on a busy machine
SARAH = "sarah.chukwuma@example.org"  # the Metropolitan Police's auditor of HK-00123

HACKNEY_AUDITORS = {  # a bigger round: twelve cases, each audited by three agencies
    "hackney-csc": ("amara-bello", "tomasz-wierzbicki", "rukhsana-begum"),
    "met-police": ("sarah-chukwuma", "daniel-costa", "hannah-greenberg"),
    "gp": ("kofi-asamoah", "mei-lin-zhou", "rachel-abernethy"),
}
MANY_CASES = tuple(
    CaseSpec(
        f"HK-2{n:04d}",
        "hackney",
        {agency: people[n % 3] for agency, people in HACKNEY_AUDITORS.items()},
    )
    for n in range(12)
)
TASKS = sum(len(spec.auditors) for spec in MANY_CASES)


@dataclass(frozen=True)
class Deployed:
    """The deployments as the server holds them after ``deploy`` and the pause."""

    schedules: dict[str, list[Any]]
    paused: dict[str, bool]


@pytest.fixture(scope="module")
def pg_url() -> str:
    url = os.environ.get("AUDITROUND_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.fail(
            "the scale-out test runs on PostgreSQL: set AUDITROUND_TEST_DATABASE_URL, e.g. "
            "postgresql+psycopg://postgres@127.0.0.1:5432/test",
            pytrace=False,
        )
    return url


@pytest.fixture(scope="module")
def server(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with prefect_server(pg_url, tmp_path_factory.mktemp("prefect")) as running:
        yield running


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[Server]:
    """This process's Prefect client talks to the test's server."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        yield server


def _run(args: list[str], server: Server, cwd: Path) -> str:
    env = {**server.env(), "AUDITROUND_CONFIG": str(CONFIG_DIR)}
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def deployed(api: Server, tmp_path_factory: pytest.TempPathFactory) -> Deployed:
    """The pool and the deployments, made with the commands of the operator's guide, from a
    folder that is not the project's; then every schedule paused.

    The schedules are real (the outbox every minute, launches every quarter of an hour,
    the chase and the follow-up on weekday mornings) and would start runs on the wall
    clock, today, besides the test's own runs at the moments it chooses. Pausing a
    deployment stops its schedule and deletes the runs it had planned; runs asked for
    through the API still go ahead. The server's scheduler may still insert a run it
    planned just before the pause, so the test's runs also go to a queue of their own
    (:data:`QUEUE`), the only one its workers take runs from: the default queue, where
    the schedules put theirs, is never served.
    """
    from prefect.client.orchestration import get_client

    cwd = tmp_path_factory.mktemp("operator")
    prefect = str(Path(sys.executable).parent / "prefect")
    _run([prefect, "work-pool", "create", POOL, "--type", "process"], api, cwd)
    _run([prefect, "work-queue", "create", QUEUE, "--pool", POOL], api, cwd)
    _run([sys.executable, "-m", "flows.deployments", "deploy", "--pool", POOL], api, cwd)
    with get_client(sync_client=True) as client:
        for deployment in client.read_deployments():
            client.pause_deployment(deployment.id)
        deployments = client.read_deployments()
    return Deployed(
        schedules={d.name: [s.schedule for s in d.schedules] for d in deployments},
        paused={d.name: d.paused for d in deployments},
    )


@pytest.fixture
def app_url(pg_url: str) -> Iterator[str]:
    """The application's own PostgreSQL database, migrated; dropped after the test."""
    with empty_database(pg_url) as url:
        engine = db.make_engine(url)
        db.upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture
def app_engine(app_url: str) -> Iterator[Engine]:
    engine = db.make_engine(app_url)
    yield engine
    engine.dispose()


@pytest.fixture
def app_session(app_engine: Engine) -> Iterator[Session]:
    with db.session_factory(app_engine)() as session:
        yield session


@pytest.fixture
def app_uow(
    app_session: Session, app_engine: Engine, config: BoardConfig
) -> Callable[[dt.datetime], UnitOfWork]:
    mail = Mail(EmailComposer(installation=db.installation_id(app_engine)), MAIL_FROM, PUBLIC_URL)
    return lambda at: UnitOfWork(app_session, config, at, "test", mail)


@pytest.fixture
def smtp(start_sink: Callable[[SinkHandler], Sink]) -> tuple[Sink, HoldingHandler]:
    """The local SMTP sink, in this process, that the workers' flows send to."""
    handler = HoldingHandler()
    return start_sink(handler), handler


@pytest.fixture
def workers(
    deployed: Deployed, api: Server, app_url: str, smtp: tuple[Sink, HoldingHandler], tmp_path: Path
) -> Iterator[Workers]:
    """Process workers of the pool with the application's settings; all ended after the test."""
    sink, _handler = smtp
    app_env = {
        "AUDITROUND_DATABASE_URL": app_url,
        "AUDITROUND_CONFIG": str(CONFIG_DIR),
        **sink.env(),
        "AUDITROUND_MAIL_FROM": MAIL_FROM,
        "AUDITROUND_PUBLIC_URL": PUBLIC_URL,
    }
    started = Workers(api, POOL, QUEUE, app_env, tmp_path)
    try:
        yield started
    finally:
        started.close()


def ask_for(name: str, now: str, *, wait: float) -> FlowRun:
    """A run of the deployment ``name`` (its flow's name too) at ``now``, asked for through
    the API on the test's queue; waited for up to ``wait`` seconds (0: not at all)."""
    from prefect.deployments import run_deployment

    flow_run = run_deployment(
        name=f"{name}/{name}",
        parameters={"now": now},
        timeout=wait,
        poll_interval=0.5,
        work_queue_name=QUEUE,
    )
    assert isinstance(flow_run, FlowRun)  # called outside an event loop: the run itself
    return flow_run


def run_flow(workers: Workers, name: str, now: str) -> FlowRun:
    """Run the deployment ``name`` at ``now``; a worker picks it up. It must complete."""
    flow_run = ask_for(name, now, wait=RUN_SECONDS)
    if flow_run.state is None or not flow_run.state.is_completed():
        pytest.fail(f"{name} at {now} ended {flow_run.state!r}\n{workers.logs()}")
    assert flow_run.work_pool_name == POOL
    return flow_run


def started_by_a_schedule() -> list[str]:
    """The flow runs a schedule made that have started (none: the schedules are paused)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import StateType

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs()
    return [r.name for r in runs if r.auto_scheduled and r.state_type != StateType.SCHEDULED]


def outbox(session: Session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def received_once(sink: Sink, session: Session) -> list[OutboxMessage]:
    """Every message of the outbox is sent and reached the sink exactly once, and the sink
    got nothing else; the outbox's messages."""
    messages = outbox(session)
    assert Counter(m.status for m in messages) == {OutboxStatus.SENT: len(messages)}
    got = Counter(r.message_id for r in sink.messages)
    assert got == Counter({m.message_id: 1 for m in messages})
    return messages


def subjects_to(sink: Sink, address: str) -> list[str]:
    return [str(r.parsed()["Subject"]) for r in sink.messages if address in r.rcpt_tos]


def arrived(sink: Sink, session: Session, kind: str) -> list[str]:
    """The subjects of the messages of one kind of the outbox that reached the sink."""
    ids = {m.message_id for m in outbox(session) if m.kind == kind}
    return [str(r.parsed()["Subject"]) for r in sink.messages if r.message_id in ids]


def test_the_deployments_carry_their_schedules_and_are_paused_before_any_worker_starts(
    deployed: Deployed,
) -> None:
    assert sorted(deployed.schedules) == sorted([*FLOWS, *MANUAL])  # each one declared
    [chase] = deployed.schedules["chase-returns"]
    assert (chase.cron, chase.timezone) == ("0 8 * * mon-fri", "Europe/London")
    [outbox_every] = deployed.schedules["dispatch-outbox"]
    assert outbox_every.interval == dt.timedelta(minutes=1)
    [launches] = deployed.schedules["launch-rounds"]
    assert launches.interval == dt.timedelta(minutes=15)
    assert all(deployed.schedules[name] == [] for name in MANUAL)  # run by hand
    assert all(deployed.paused.values())


def test_a_process_worker_launches_chases_dispatches_and_follows_up_each_email_once(
    workers: Workers,
    smtp: tuple[Sink, HoldingHandler],
    app_uow: Callable[[dt.datetime], UnitOfWork],
    app_session: Session,
    app_engine: Engine,
    config: BoardConfig,
) -> None:
    sink, handler = smtp
    action_id = _prepare_rounds(app_uow, app_session, app_engine, config, sink)
    handler.refuse[SARAH] = "451 4.2.1 Mailbox busy: try again later"
    workers.start("first")

    run_flow(workers, "launch-rounds", "2026-03-02T09:00")  # Sarah's mailbox is busy
    assert arrived(sink, app_session, "launch_summary") == [
        "Case audit 2026-H1 launched: 4 tasks delivered, 1 waiting for a retry, 2 to nominate"
    ]
    handler.refuse.clear()
    run_flow(workers, "dispatch-outbox", "2026-03-02T09:05")  # the retry is due
    run_flow(workers, "chase-returns", "2026-03-23T08:00")  # five working days before the deadline
    run_flow(workers, "follow-up-actions", "2026-04-22T08:30")  # ten before the action's

    messages = received_once(sink, app_session)
    assert Counter(m.kind for m in messages) == {
        "action_link": 1,  # sent by ``actions add``, before the worker started
        "task": 5,
        "nomination": 2,
        "launch_summary": 1,
        "reminder": 5,
        "digest": 1,
        "action_reminder": 1,
        "action_digest": 1,  # this week's, missed on Monday (no follow-up ran that day)
    }
    sarah = [m for m in messages if m.kind == "task" and m.recipients == [SARAH]]
    assert [m.attempts for m in sarah] == [2]  # refused once, then sent by dispatch-outbox
    assert len(subjects_to(sink, SARAH)) == 2  # her task, then its reminder
    audit_round = app_session.get(AuditRound, "2026-H1")
    assert audit_round is not None and audit_round.status == RoundStatus.OPEN
    chased = sorted((c.step, c.taken_on) for c in app_session.scalars(select(ChaseRecord)))
    assert chased == [("reminder-5", dt.date(2026, 3, 23))] * 5  # one a task, recorded
    followed = list(app_session.scalars(select(ActionChaseStep)))
    assert [(f.action_id, f.step, f.taken_on) for f in followed] == [
        (action_id, "reminder-10", dt.date(2026, 4, 22))
    ]
    assert started_by_a_schedule() == []


def _prepare_rounds(
    app_uow: Callable[[dt.datetime], UnitOfWork],
    session: Session,
    engine: Engine,
    config: BoardConfig,
    sink: Sink,
) -> int:
    """Round 2026-H1 planned to launch on Monday 2 March 2026 (five tasks, two nomination
    requests), and round 2025-H2 at its briefing with one action, owned by Amara Bello and
    due Thursday 7 May 2026, added as ``actions add`` does (its link emailed); its id."""
    when = dt.datetime(2026, 2, 27, 10, 0, tzinfo=LONDON)
    uow = app_uow(when)
    planned_round(uow)
    session.commit()
    briefing_round(
        uow,
        round_id="2025-H2",
        cases=SECOND_CASES,
        findings=SECOND_FINDINGS,
        launched_at=dt.datetime(2025, 9, 1, 9, 0, tzinfo=LONDON),
    )
    [lesson, *_] = lessons_to_act_on(uow, round_id="2025-H2")
    session.commit()
    app = App(
        config=config,
        engine=engine,
        smtp=sink.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL),
        clock=lambda: when,
    )
    added, sent = app.add_action(
        lesson_id=lesson.id,
        text="Every plan names the father and how he was asked to take part.",
        measure="A dip sample of ten plans shows it in eight.",
        owner="amara-bello",
        due_on=dt.date(2026, 5, 7),
        actor="alice",
    )
    assert sent.sent == 1
    return added.id


def test_a_worker_killed_mid_launch_loses_no_task_and_the_next_one_sends_each_once(
    workers: Workers,
    smtp: tuple[Sink, HoldingHandler],
    app_uow: Callable[[dt.datetime], UnitOfWork],
    app_session: Session,
    config: BoardConfig,
) -> None:
    """The launch at 09:00 is killed, worker and flow run, while its twelfth email is on
    the wire; a new worker's launch at 09:15 (the next on the schedule) finishes it."""
    from prefect.client.orchestration import get_client

    sink, handler = smtp
    planned_round(app_uow(dt.datetime(2026, 2, 27, 10, 0, tzinfo=LONDON)), cases=MANY_CASES)
    app_session.commit()
    first = workers.start("first")

    handler.hold(12)
    killed = ask_for("launch-rounds", "2026-03-02T09:00", wait=0)
    wait_until(handler.held.is_set, RUN_SECONDS, "the launch's twelfth email", workers.logs)
    workers.kill(first)

    at_kill = outbox(app_session)
    sent = {m.message_id for m in at_kill if m.status == OutboxStatus.SENT}
    audit_round = app_session.get(AuditRound, "2026-H1")
    assert audit_round is not None and audit_round.status == RoundStatus.OPEN
    assert len(at_kill) == TASKS and len(sent) == 11  # the launch was committed, then cut short
    assert {r.message_id for r in sink.messages} == sent  # what arrived was marked, no more
    [in_flight] = [m for m in at_kill if m.message_id == handler.held_message_id]
    assert in_flight.status == OutboxStatus.SENDING
    sender = int(str(in_flight.claimed_by).split(":")[1])  # host:pid:random
    assert sender in first.flow_runs, (sender, first.flow_runs)  # the flow run's process, killed
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(killed.id).state
    assert state is not None and not state.is_completed()  # nobody was left to finish it

    handler.release()  # nothing is held any more
    workers.start("second")
    run_flow(workers, "launch-rounds", "2026-03-02T09:15")

    messages = received_once(sink, app_session)
    assert Counter(m.kind for m in messages) == {"task": TASKS, "launch_summary": 1}
    assert arrived(sink, app_session, "launch_summary") == [
        f"Case audit 2026-H1 launched: {TASKS} tasks delivered, 0 to nominate"
    ]
    email = {a.id: a.email for a in config.auditors}
    tasks = {m.message_id for m in messages if m.kind == "task"}
    to_auditors = Counter(to for r in sink.messages if r.message_id in tasks for to in r.rcpt_tos)
    planned = Counter(email[a] for spec in MANY_CASES for a in spec.auditors.values() if a)
    assert to_auditors == planned  # each auditor got each of their tasks, once
    assert started_by_a_schedule() == []
