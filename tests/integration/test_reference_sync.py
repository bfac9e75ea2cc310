"""The configuration's areas, agencies and auditors are mirrored into the database."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select
from support.trail import events

from audit_core.domain.models import Agency, Area, Person
from audit_core.services.reference import sync_reference_data
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database


def test_the_first_sync_creates_every_area_agency_and_auditor(uow: UnitOfWork) -> None:
    session, config = uow.session, uow.config
    result = sync_reference_data(uow)
    session.commit()
    assert session.scalar(select(func.count()).select_from(Area)) == len(config.board.areas)
    assert session.scalar(select(func.count()).select_from(Agency)) == len(config.agencies)
    assert session.scalar(select(func.count()).select_from(Person)) == len(config.auditors)
    assert len(result.added) == len(config.board.areas) + len(config.agencies) + len(
        config.auditors
    )
    assert len(events(session)) == len(result.added)


def test_a_second_sync_of_the_same_config_changes_nothing(uow: UnitOfWork) -> None:
    session = uow.session
    sync_reference_data(uow)
    session.commit()
    before = len(events(session))
    result = sync_reference_data(uow)
    session.commit()
    assert (result.added, result.changed, result.deactivated) == ([], [], [])
    assert len(events(session)) == before


def test_an_auditor_who_leaves_the_config_is_kept_but_made_inactive(uow: UnitOfWork) -> None:
    session, config = uow.session, uow.config
    sync_reference_data(uow)
    session.commit()
    leaver = config.auditors[0]
    smaller = config.model_copy(update={"auditors": config.auditors[1:]})
    result = sync_reference_data(dataclasses.replace(uow, config=smaller))
    session.commit()
    assert result.deactivated == [f"auditor {leaver.id}"]
    person = session.get(Person, leaver.id)
    assert person is not None and person.active is False


def test_a_changed_capacity_is_updated_and_audited(uow: UnitOfWork) -> None:
    session, config = uow.session, uow.config
    sync_reference_data(uow)
    session.commit()
    first = config.auditors[0]
    changed = first.model_copy(update={"capacity": first.capacity + 1})
    result = sync_reference_data(
        dataclasses.replace(
            uow, config=config.model_copy(update={"auditors": (changed, *config.auditors[1:])})
        )
    )
    session.commit()
    assert result.changed == [f"auditor {first.id}"]
    person = session.get(Person, first.id)
    assert person is not None and person.capacity == first.capacity + 1
    last = events(session, object_type="person")[-1]
    assert (last.action, last.details) == ("updated", {"fields": ["capacity"]})
