"""The configuration's areas, agencies and auditors are mirrored into the database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit_core import audit_trail
from audit_core.config import BoardConfig
from audit_core.models import Agency, Area, Person
from audit_core.reference import sync_reference_data

pytestmark = pytest.mark.database


def test_the_first_sync_creates_every_area_agency_and_auditor(
    session: Session, config: BoardConfig, now: dt.datetime
) -> None:
    result = sync_reference_data(session, config, now=now, actor="alice")
    session.commit()
    assert session.scalar(select(func.count()).select_from(Area)) == len(config.board.areas)
    assert session.scalar(select(func.count()).select_from(Agency)) == len(config.agencies)
    assert session.scalar(select(func.count()).select_from(Person)) == len(config.auditors)
    assert len(result.added) == len(config.board.areas) + len(config.agencies) + len(
        config.auditors
    )
    assert len(audit_trail.events(session)) == len(result.added)


def test_a_second_sync_of_the_same_config_changes_nothing(
    session: Session, config: BoardConfig, now: dt.datetime
) -> None:
    sync_reference_data(session, config, now=now, actor="alice")
    session.commit()
    before = len(audit_trail.events(session))
    result = sync_reference_data(session, config, now=now, actor="alice")
    session.commit()
    assert (result.added, result.changed, result.deactivated) == ([], [], [])
    assert len(audit_trail.events(session)) == before


def test_an_auditor_who_leaves_the_config_is_kept_but_made_inactive(
    session: Session, config: BoardConfig, now: dt.datetime
) -> None:
    sync_reference_data(session, config, now=now, actor="alice")
    session.commit()
    leaver = config.auditors[0]
    smaller = config.model_copy(update={"auditors": config.auditors[1:]})
    result = sync_reference_data(session, smaller, now=now, actor="alice")
    session.commit()
    assert result.deactivated == [f"auditor {leaver.id}"]
    person = session.get(Person, leaver.id)
    assert person is not None and person.active is False


def test_a_changed_capacity_is_updated_and_audited(
    session: Session, config: BoardConfig, now: dt.datetime
) -> None:
    sync_reference_data(session, config, now=now, actor="alice")
    session.commit()
    first = config.auditors[0]
    changed = first.model_copy(update={"capacity": first.capacity + 1})
    result = sync_reference_data(
        session,
        config.model_copy(update={"auditors": (changed, *config.auditors[1:])}),
        now=now,
        actor="alice",
    )
    session.commit()
    assert result.changed == [f"auditor {first.id}"]
    person = session.get(Person, first.id)
    assert person is not None and person.capacity == first.capacity + 1
    last = audit_trail.events(session, object_type="person")[-1]
    assert (last.action, last.details) == ("updated", {"fields": ["capacity"]})
