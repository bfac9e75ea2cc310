"""Every writer of the audit trail (use cases, the dispatcher) extends one unbroken chain, also
when several write at once."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session
from support import MAIL_FROM, PUBLIC_URL
from support.rounds import delivered_round, queue_notes
from support.scripted_smtp import ScriptedHandler
from support.trail import events

from audit_core.adapters import db
from audit_core.adapters.smtp_sink import Sink, SinkHandler
from audit_core.bootstrap import App
from audit_core.domain.models import Area, AuditEvent
from audit_core.domain.policy import BoardConfig
from audit_core.services.audit_verify import verify_trail
from audit_core.services.reference import sync_reference_data
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database


def _places(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.id)))


def _verified(engine: Engine) -> int:
    with Session(engine) as session:
        checked = verify_trail(session)
    assert checked.intact, checked.sentence()
    return checked.checked


def _run_at_once(*work: Callable[[], object]) -> None:
    """Run each piece of work in its own thread, started together; raise what any raised."""
    start = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(one: Callable[[], object]) -> None:
        try:
            start.wait()
            one()
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(one,)) for one in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors


def test_a_launched_and_delivered_round_leaves_an_intact_trail_in_the_order_it_was_written(
    uow: UnitOfWork, app: App, sink: Sink, session: Session, engine: Engine
) -> None:
    delivered_round(uow, app, sink)
    session.commit()
    actions = Counter(e.action for e in events(session))
    assert actions["launched"] == 1
    assert actions["sent"] == len(sink.messages)
    assert _verified(engine) == sum(actions.values())
    assert _places(engine) == list(range(1, sum(actions.values()) + 1))


def test_a_failure_and_the_alert_it_queues_join_the_chain_with_the_dispatchers_marks(
    session: Session,
    uow: UnitOfWork,
    make_app: Callable[..., App],
    engine: Engine,
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    (refused,) = queue_notes(uow, 1)
    session.commit()
    server = start_sink(ScriptedHandler({refused.message_id: ["550 5.7.1 mailbox unavailable"]}))
    result = make_app(server.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL)).dispatch()
    assert (result.failed, result.alerts_queued, result.sent) == (1, 1, 1)
    actions = [(e.actor.split(":")[0], e.action) for e in events(session)]
    assert actions == [
        ("alice", "queued"),
        ("dispatcher", "failed"),
        ("dispatcher", "queued"),  # the alert, in the same transaction as the failure
        ("dispatcher", "sent"),
    ]
    assert _verified(engine) == 4


def test_writers_at_once_take_their_places_one_after_another(
    database_url: str, engine: Engine, config: BoardConfig, now: dt.datetime
) -> None:
    writers, transactions = 4, 15

    def writer(name: str) -> None:
        own = db.make_engine(database_url)  # each its own engine, as separate processes would
        try:
            for n in range(transactions):
                with db.transaction(own) as session:
                    uow = UnitOfWork(session, config, now, name)
                    uow.record("updated", "case_file", n)
                    uow.record_many("queued", "outbox_message", [(n, {}), (n + 1, {"to": [name]})])
        finally:
            own.dispose()

    _run_at_once(*(lambda name=f"writer-{w}": writer(name) for w in range(writers)))

    assert _verified(engine) == writers * transactions * 3
    assert _places(engine) == list(range(1, writers * transactions * 3 + 1))


def test_a_writer_waiting_for_a_row_does_not_hold_the_trail_for_the_one_that_holds_it(
    database_url: str, engine: Engine, session: Session, uow: UnitOfWork, config: BoardConfig
) -> None:
    """The first records its event, then waits for a row the second holds; the second, holding
    the row, records its own and commits. Had the first taken the trail's lock when it
    recorded, each would wait for the other."""
    sync_reference_data(uow)
    session.commit()
    holding = threading.Event()
    rename = update(Area).where(Area.id == "city").values(name=Area.name + " (renamed)")

    def first() -> None:
        assert holding.wait(30)
        with db.transaction(engine) as own:
            UnitOfWork(own, config, uow.now, "first").record("renamed", "area", "city")
            own.flush()
            own.execute(rename)  # waits for the second to commit

    def second() -> None:
        other = db.make_engine(database_url)
        try:
            with db.transaction(other) as own:
                own.execute(rename)
                holding.set()
                threading.Event().wait(0.5)  # the first is now waiting for this row
                UnitOfWork(own, config, uow.now, "second").record("renamed", "area", "city")
        finally:
            other.dispose()

    _run_at_once(first, second)

    renamed = [e.actor for e in events(session, object_type="area") if e.action == "renamed"]
    assert sorted(renamed) == ["first", "second"]
    assert session.scalar(select(Area.name).where(Area.id == "city")).endswith(
        "(renamed) (renamed)"
    )
    _verified(engine)


def test_two_dispatchers_and_a_use_case_at_once_leave_one_unbroken_chain(
    session: Session,
    uow: UnitOfWork,
    database_url: str,
    engine: Engine,
    config: BoardConfig,
    now: dt.datetime,
    start_sink: Callable[[SinkHandler], Sink],
) -> None:
    queue_notes(uow, 60)
    session.commit()
    server = start_sink(ScriptedHandler(delay=0.001))
    settings = server.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL)

    def dispatcher(name: str) -> None:
        own = db.make_engine(database_url)
        try:
            App(config=config, engine=own, smtp=settings, clock=lambda: now).dispatch(worker=name)
        finally:
            own.dispose()

    def use_case() -> None:
        for n in range(30):
            with db.transaction(engine) as own:
                UnitOfWork(own, config, now, "alice").record("updated", "case_file", n)

    _run_at_once(lambda: dispatcher("alpha"), lambda: dispatcher("beta"), use_case)

    actions = Counter(e.action for e in events(session))
    assert (actions["queued"], actions["sent"], actions["updated"]) == (60, 60, 30)
    assert _verified(engine) == 150


def test_events_written_in_several_batches_make_one_unbroken_trail(
    engine: Engine, session: Session, uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audit_core.domain import trail_append

    monkeypatch.setattr(trail_append, "BATCH", 3)  # ten events: four inserts
    uow.record_many("noted", "note", [(n, {"n": n}) for n in range(10)])
    session.commit()
    assert _places(engine) == list(range(1, 11))
    assert _verified(engine) == 10
