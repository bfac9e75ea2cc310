"""Two commands that move one round at once: only the first does; the second says so."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker
from support.rounds import planned_round, queue_notes

from audit_core.adapters.smtp_sink import Sink
from audit_core.bootstrap import App
from audit_core.domain.errors import ConcurrentChange
from audit_core.domain.models import AuditEvent, AuditRound, OutboxMessage, RoundStatus
from audit_core.services import outbox
from audit_core.services.launch import LaunchResult, launch_round
from audit_core.services.queries import get_round
from audit_core.services.round_cancel import cancel_round
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database


def launched_events(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        query = select(func.count()).where(AuditEvent.action == "launched")
        return session.scalar(query) or 0


def test_a_launch_that_read_the_round_before_another_launch_opened_it_does_not_open_it_again(
    session: Session,
    session_factory: sessionmaker[Session],
    uow: UnitOfWork,
    now: dt.datetime,
) -> None:
    planned_round(uow)
    session.commit()
    with session_factory() as late:  # reads the round while it is still planned
        late_uow = UnitOfWork(late, uow.config, now, "bob", uow.mail)
        seen = get_round(late, "2026-H1")  # held, as a running launch holds it
        assert seen.status == RoundStatus.PLANNED

        first = launch_round(uow, "2026-H1")
        session.commit()

        with pytest.raises(ConcurrentChange, match="changed by another command") as raised:
            launch_round(late_uow, "2026-H1")
        late.rollback()
    assert "no longer planned" in str(raised.value)
    assert first.opened
    assert launched_events(session_factory) == 1


def test_a_cancel_that_read_the_round_before_it_was_launched_does_not_cancel_the_open_round(
    session: Session,
    session_factory: sessionmaker[Session],
    uow: UnitOfWork,
    now: dt.datetime,
) -> None:
    planned_round(uow)
    session.commit()
    with session_factory() as late:
        late_uow = UnitOfWork(late, uow.config, now, "bob", uow.mail)
        seen = get_round(late, "2026-H1")
        launch_round(uow, "2026-H1")
        session.commit()
        with pytest.raises(ConcurrentChange):
            cancel_round(late_uow, "2026-H1", "planned by mistake")
        late.rollback()
        assert seen.id == "2026-H1"
    with session_factory() as fresh:
        audit_round = fresh.get(AuditRound, "2026-H1")
        assert audit_round is not None
        assert audit_round.status == RoundStatus.OPEN
        assert audit_round.cancel_reason is None


def _hold_after_opening(
    engine: Engine, opened: threading.Event, hold: float
) -> Callable[..., None]:
    """Once the round's UPDATE has run in this thread, let the other launch start, then wait
    a little before committing, so that the other one reads the round while it is planned."""
    me = threading.get_ident()

    def after(conn: object, cursor: object, statement: str, *args: object) -> None:
        if threading.get_ident() == me and statement.startswith("UPDATE audit_round"):
            opened.set()
            threading.Event().wait(hold)

    event.listen(engine, "after_cursor_execute", after)
    return after


def test_two_launches_at_once_open_the_round_once_and_send_each_task_once(
    session: Session,
    session_factory: sessionmaker[Session],
    uow: UnitOfWork,
    engine: Engine,
    make_app: Callable[..., App],
    mail_settings: object,
    sink: Sink,
) -> None:
    planned_round(uow)
    session.commit()
    opened = threading.Event()
    results: dict[str, LaunchResult] = {}
    errors: list[BaseException] = []

    def launch(name: str, wait_for: threading.Event | None) -> None:
        try:
            if wait_for is not None:
                assert wait_for.wait(10)
            elif name == "first":
                _hold_after_opening(engine, opened, 1.0)
            results[name], _ = make_app(mail_settings).launch("2026-H1")
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [
        threading.Thread(target=launch, args=("first", None)),
        threading.Thread(target=launch, args=("second", opened)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert [results["first"].opened, results["second"].opened] == [True, False]
    assert launched_events(session_factory) == 1
    with session_factory() as check:
        tasks = check.scalars(select(OutboxMessage.message_id).where(OutboxMessage.kind == "task"))
        task_ids = set(tasks)
    received = [m.message_id for m in sink.messages if m.message_id in task_ids]
    assert sorted(received) == sorted(task_ids)  # each task delivered, and only once


def test_an_email_another_command_queued_a_moment_ago_is_taken_not_queued_twice(
    session: Session,
    session_factory: sessionmaker[Session],
    uow: UnitOfWork,
    now: dt.datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [first] = queue_notes(uow, 1, prefix="race")
    session.commit()
    looked: list[object] = []
    real = outbox.messages_by_key

    def looked_before_the_other_committed(s: Session, keys: list[str]) -> dict[str, object]:
        looked.append(keys)
        return {} if len(looked) == 1 else real(s, keys)

    monkeypatch.setattr(outbox, "messages_by_key", looked_before_the_other_committed)
    with session_factory() as late:
        [again] = queue_notes(UnitOfWork(late, uow.config, now, "bob", uow.mail), 1, prefix="race")
        late.commit()
    assert (again.id, again.message_id, again.created) == (first.id, first.message_id, False)
    with session_factory() as check:
        keys = check.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.kind == "race"))
        assert list(keys) == ["race:0"]
