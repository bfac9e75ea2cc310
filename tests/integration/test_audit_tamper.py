"""A trail changed behind auditround's back, triggers and all, shows it: verify names where."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from support.trail import tamper

from audit_core.adapters import db
from audit_core.bootstrap import App
from audit_core.domain.models import AuditEvent
from audit_core.domain.policy import BoardConfig
from audit_core.domain.trail import TrailCheck, event_hash
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

ACTORS = ("alice", "bob", "charlie", "dana", "erin")


@pytest.fixture
def trail(engine: Engine, config: BoardConfig, now: dt.datetime) -> dict[int, int]:
    """Five events, one per transaction (alice's first); their ids by place in the trail."""
    for n, actor in enumerate(ACTORS):
        with db.transaction(engine) as session:
            uow = UnitOfWork(session, config, now + dt.timedelta(minutes=n), actor)
            uow.record("updated", "case_file", n, details={"fields": ["flags"]})
    with Session(engine) as session:
        return dict(session.execute(select(AuditEvent.seq, AuditEvent.id)).tuples().all())


@pytest.fixture
def verify(make_app: Callable[..., App]) -> Callable[[], TrailCheck]:
    return make_app().verify_trail


def test_an_intact_trail_is_reported_with_the_number_of_events(
    trail: dict[int, int], verify: Callable[[], TrailCheck]
) -> None:
    checked = verify()
    assert checked.intact
    assert checked.checked == 5
    assert checked.sentence().startswith("audit trail intact: 5 events checked")


def test_an_actor_forged_behind_the_triggers_is_named(
    engine: Engine, trail: dict[int, int], verify: Callable[[], TrailCheck]
) -> None:
    tamper(engine, f"UPDATE audit_event SET actor = 'mallory' WHERE id = {trail[3]}")
    checked = verify()
    assert not checked.intact
    assert checked.checked == 2
    assert checked.sentence() == (
        f"audit trail broken at event #3 (id {trail[3]}): its content does not match its hash"
    )


def test_a_forged_event_given_a_matching_hash_is_found_by_the_next_one(
    engine: Engine, trail: dict[int, int], verify: Callable[[], TrailCheck]
) -> None:
    with Session(engine) as session:
        event = session.get_one(AuditEvent, trail[3])
        forged = {c.name: getattr(event, c.name) for c in AuditEvent.__table__.columns}
    forged["actor"] = "mallory"
    rehashed = event_hash(forged, forged["prev_hash"])
    tamper(
        engine,
        f"UPDATE audit_event SET actor = 'mallory', hash = '{rehashed}' WHERE id = {trail[3]}",
    )
    assert verify().sentence() == (
        f"audit trail broken at event #4 (id {trail[4]}): the event before it is missing or changed"
    )


def test_an_event_removed_from_the_middle_is_found_by_the_next_one(
    engine: Engine, trail: dict[int, int], verify: Callable[[], TrailCheck]
) -> None:
    tamper(engine, f"DELETE FROM audit_event WHERE id = {trail[3]}")
    checked = verify()
    assert (checked.checked, checked.broken and checked.broken.why) == (2, "link")
    assert f"event #4 (id {trail[4]})" in checked.sentence()


def test_the_last_events_removed_are_counted(
    engine: Engine, trail: dict[int, int], verify: Callable[[], TrailCheck]
) -> None:
    tamper(engine, f"DELETE FROM audit_event WHERE id IN ({trail[4]}, {trail[5]})")
    checked = verify()
    assert checked.checked == 3
    assert checked.sentence() == (
        "audit trail broken: the last 2 events are missing "
        "(the chain head says the trail ends at event #5)"
    )


def test_an_event_slipped_in_at_the_end_is_named(
    engine: Engine, trail: dict[int, int], verify: Callable[[], TrailCheck]
) -> None:
    with Session(engine) as session:
        last = session.get_one(AuditEvent, trail[5])
        slipped = {c.name: getattr(last, c.name) for c in AuditEvent.__table__.columns}
    slipped.update(seq=6, actor="mallory", prev_hash=last.hash)
    tamper(
        engine,
        "INSERT INTO audit_event (at, actor, action, object_type, object_id, details, seq, "
        f"prev_hash, hash) SELECT at, 'mallory', action, object_type, object_id, details, 6, "
        f"'{last.hash}', '{event_hash(slipped, last.hash)}' FROM audit_event WHERE id = {last.id}",
    )
    checked = verify()
    assert checked.broken is not None
    assert (checked.broken.why, checked.broken.seq, checked.checked) == ("unknown", 6, 5)


def test_a_trail_cut_short_with_its_head_shows_against_the_hash_noted_earlier(
    engine: Engine, trail: dict[int, int], make_app: Callable[..., App]
) -> None:
    app = make_app()
    before = app.verify_trail()
    noted = (before.last_seq, before.last_hash)  # kept outside the database
    tamper(engine, f"DELETE FROM audit_event WHERE id = {trail[5]}")
    with Session(engine) as session:
        fourth = session.get_one(AuditEvent, trail[4])
    tamper(engine, f"UPDATE audit_chain SET last_seq = 4, last_hash = '{fourth.hash}'")
    assert app.verify_trail().intact  # consistent in itself: only the noted hash shows it
    assert app.verify_trail(noted).sentence() == (
        "audit trail broken: event #5, whose hash was noted, is gone"
    )


def test_a_trail_rewritten_whole_shows_at_the_place_noted_earlier(
    engine: Engine, trail: dict[int, int], make_app: Callable[..., App]
) -> None:
    app = make_app()
    noted = (3, _hash_at(engine, trail[3]))  # as verify printed it, when 3 was the last
    with Session(engine) as session:
        stored = [
            {c.name: getattr(e, c.name) for c in AuditEvent.__table__.columns}
            for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))
        ]
    prev = stored[0]["prev_hash"]
    statements = []
    for event in stored:  # every event by mallory, each hash made again, the head moved
        event.update(actor="mallory", prev_hash=prev)
        prev = event_hash(event, prev)
        statements.append(
            f"UPDATE audit_event SET actor = 'mallory', prev_hash = '{event['prev_hash']}', "
            f"hash = '{prev}' WHERE id = {event['id']}"
        )
    tamper(engine, *statements, f"UPDATE audit_chain SET last_hash = '{prev}'")
    assert app.verify_trail().intact
    assert app.verify_trail(noted).sentence() == (
        f"audit trail broken at event #3 (id {trail[3]}): its hash is not the one noted for "
        "it, so the trail was rewritten up to there"
    )


def _hash_at(engine: Engine, event_id: int) -> str:
    with Session(engine) as session:
        return session.get_one(AuditEvent, event_id).hash
