"""Mirror the configuration's reference data (areas, agencies, auditors) into the database.

The YAML files are the source of truth; the tables exist so that cases,
assignments and actions can point at them with foreign keys. A person who
leaves the configuration is kept (past assignments name them) but made
inactive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from audit_core.domain.models import Agency, Area, Person
from audit_core.services.unit_of_work import UnitOfWork


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)


def sync_reference_data(uow: UnitOfWork) -> SyncResult:
    """Add, update or deactivate rows so that they match the configuration."""
    session, config = uow.session, uow.config
    result = SyncResult()

    tables: tuple[type[Any], ...] = (Area, Agency, Person)
    existing: dict[type[Any], dict[str, Any]] = {
        model: {row.id: row for row in session.scalars(select(model))} for model in tables
    }  # one query per table, not one per configured item

    def upsert(model: type[Any], key: str, values: dict[str, Any], label: str) -> None:
        row = existing[model].get(key)
        if row is None:
            session.add(model(id=key, **values))
            result.added.append(label)
            uow.record("created", model.__tablename__, key, details={"source": "configuration"})
            return
        diff = {k: v for k, v in values.items() if getattr(row, k) != v}
        if diff:
            for k, v in diff.items():
                setattr(row, k, v)
            result.changed.append(label)
            uow.record("updated", model.__tablename__, key, details={"fields": sorted(diff)})

    for area in config.board.areas:
        upsert(Area, area.id, {"name": area.name}, f"area {area.id}")
    for agency in config.agencies:
        upsert(
            Agency,
            agency.id,
            {
                "name": agency.name,
                "sector": agency.sector,
                "areas": list(agency.areas),
                "lead_name": agency.lead.name,
                "lead_email": agency.lead.email,
            },
            f"agency {agency.id}",
        )
    session.flush()
    configured = set()
    for auditor in config.auditors:
        configured.add(auditor.id)
        upsert(
            Person,
            auditor.id,
            {
                "name": auditor.name,
                "email": auditor.email,
                "agency_id": auditor.agency,
                "areas": list(auditor.areas),
                "capacity": auditor.capacity,
                "practitioner_ids": list(auditor.practitioner_ids),
                "active": auditor.active,
            },
            f"auditor {auditor.id}",
        )
    for person in existing[Person].values():
        if person.active and person.id not in configured:
            person.active = False
            result.deactivated.append(f"auditor {person.id}")
            uow.record(
                "deactivated",
                "person",
                person.id,
                details={"reason": "no longer in the configuration"},
            )
    session.flush()
    return result
