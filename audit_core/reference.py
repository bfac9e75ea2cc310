"""Mirror the configuration's reference data (areas, agencies, auditors) into the database.

The YAML files are the source of truth; the tables exist so that cases,
assignments and actions can point at them with foreign keys. A person who
leaves the configuration is kept (past assignments name them) but made
inactive.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_core import audit_trail
from audit_core.config import BoardConfig
from audit_core.models import Agency, Area, Person


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)


def sync_reference_data(
    session: Session, config: BoardConfig, *, now: dt.datetime, actor: str
) -> SyncResult:
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
            audit_trail.record(
                session,
                now=now,
                actor=actor,
                action="created",
                object_type=model.__tablename__,
                object_id=key,
                details={"source": "configuration"},
            )
            return
        diff = {k: v for k, v in values.items() if getattr(row, k) != v}
        if diff:
            for k, v in diff.items():
                setattr(row, k, v)
            result.changed.append(label)
            audit_trail.record(
                session,
                now=now,
                actor=actor,
                action="updated",
                object_type=model.__tablename__,
                object_id=key,
                details={"fields": sorted(diff)},
            )

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
            audit_trail.record(
                session,
                now=now,
                actor=actor,
                action="deactivated",
                object_type="person",
                object_id=person.id,
                details={"reason": "no longer in the configuration"},
            )
    session.flush()
    return result
