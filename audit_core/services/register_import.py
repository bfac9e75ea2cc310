"""The case register import: a case system's export becomes the partnership's register.

:func:`import_register` is all or nothing:

1. The file has been read and checked already
   (:func:`audit_core.adapters.register_file.read_register`, through the
   composition root): any problem there raised :class:`ImportRejected`
   listing every one, before the session was touched.
2. Mirror the configuration's areas, agencies and auditors into the database.
3. A few thousand cases at a time (``CHUNK``): load those already stored and
   their involvements (one query each, never one per row), then add the new
   cases, update the changed ones (replacing their involvements) and leave
   the rest, with bulk statements; cases missing from the file are kept. The
   checked register is consumed on the way: each chunk is freed once written.
4. Record, per chunk, one audit event naming the cases it added (``cases_added``)
   and one naming those it updated with the fields that changed
   (``cases_updated``), then one ``register_imported`` event with the file's name,
   SHA-256 and the counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from audit_core.domain.models import Base, CaseFile, CaseInvolvement
from audit_core.domain.register import ParsedRegister, RegisterRow
from audit_core.services.reference import sync_reference_data
from audit_core.services.unit_of_work import UnitOfWork

# --- the import ------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    """What an import did; references are written ``area/reference``."""

    file: str
    sha256: str
    rows: int
    added: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: int
    not_in_file: int

    def counts(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "added": len(self.added),
            "updated": len(self.updated),
            "unchanged": self.unchanged,
            "not_in_file": self.not_in_file,
        }


CHUNK = 2_000  # cases looked up and written per statement
# Core tables: executemany straight through, without the ORM's per-row bookkeeping
CASE_FILE = Base.metadata.tables["case_file"]
CASE_INVOLVEMENT = Base.metadata.tables["case_involvement"]
_STORED = (
    "category",
    "age_band",
    "flags",
    "opened_on",
    "last_activity_on",
    "closed_on",
    "last_audited_on",
)


@dataclass
class _Tally:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0


def import_register(uow: UnitOfWork, parsed: ParsedRegister) -> ImportResult:
    """Import a checked register all or nothing (see the module's numbered steps).

    The cases are taken ``CHUNK`` at a time, and let go once written: their stored
    versions are read in one query, and the new and changed ones written with bulk
    statements.
    """
    session = uow.session
    sync_reference_data(uow)
    total_before = session.scalar(select(func.count()).select_from(CaseFile)) or 0
    areas = {row.area_id for row in parsed.rows}
    stored_areas = set(  # areas with no case yet need no look-up: every case is new
        session.scalars(select(CaseFile.area_id).where(CaseFile.area_id.in_(areas)).distinct())
    )
    tally, rows = _Tally(), len(parsed.rows)
    for chunk in parsed.take(CHUNK):  # the register is consumed: written rows are freed
        _import_chunk(uow, parsed.file, chunk, stored_areas, tally)
    for obj in list(session.identity_map.values()):  # cases the caller holds are now stale
        if isinstance(obj, CaseFile | CaseInvolvement):
            session.expire(obj)
    result = ImportResult(
        file=parsed.file,
        sha256=parsed.sha256,
        rows=rows,
        added=tuple(tally.added),
        updated=tuple(tally.updated),
        unchanged=tally.unchanged,
        not_in_file=total_before - len(tally.updated) - tally.unchanged,
    )
    uow.record(
        "register_imported",
        "case_register",
        parsed.file,
        details={**result.counts(), "sha256": parsed.sha256, "rows": result.rows},
    )
    session.flush()
    return result


@dataclass
class _Plan:
    """What to do with one chunk of the file's cases."""

    added: list[RegisterRow] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)  # new values, by case id
    updated: list[tuple[int, RegisterRow, list[str]]] = field(default_factory=list)
    replace: list[tuple[int, RegisterRow]] = field(default_factory=list)  # new involvements
    unchanged: int = 0


def _plan(
    session: Session, rows: Sequence[RegisterRow], stored_areas: set[str], now: dt.datetime
) -> _Plan:
    """Compare each case with its stored version: to add, to update, or unchanged."""
    plan = _Plan()
    existing = _stored(session, [row for row in rows if row.area_id in stored_areas])
    for row in rows:
        found = existing.get((row.area_id, row.reference))
        if found is None:
            plan.added.append(row)
            continue
        case_id, stored, stored_involvements = found
        fields = _fields(row)
        changed = [k for k in _STORED if _comparable(stored[k]) != _comparable(fields[k])]
        if stored_involvements != dict(row.involvements):
            changed.append("involvements")
            plan.replace.append((case_id, row))
        if changed:
            plan.updates.append({"id": case_id, **fields, "updated_at": now})
            plan.updated.append((case_id, row, changed))
        else:
            plan.unchanged += 1
    return plan


def _import_chunk(
    uow: UnitOfWork, file: str, rows: Sequence[RegisterRow], stored_areas: set[str], tally: _Tally
) -> None:
    """Add, update or leave each case of ``rows``, and record what changed."""
    session, now = uow.session, uow.now
    plan = _plan(session, rows, stored_areas, now)
    new_ids: list[int] = []
    if plan.added:
        session.execute(insert(CASE_FILE), [_new_case(r, now) for r in plan.added])
        # the new ids, read back by key (RETURNING would insert one row at a time on SQLite)
        ids = _ids(session, plan.added)
        new_ids = [ids[r.area_id][r.reference] for r in plan.added]
    if plan.updates:
        session.execute(update(CaseFile), plan.updates)
    if plan.replace:
        session.execute(
            delete(CaseInvolvement)
            .where(CaseInvolvement.case_id.in_([case_id for case_id, _ in plan.replace]))
            .execution_options(synchronize_session=False)
        )
    created = list(zip(new_ids, plan.added, strict=True))
    involvements = [
        {"case_id": case_id, "agency_id": agency, "practitioner_ids": list(people)}
        for case_id, row in (*created, *plan.replace)
        for agency, people in row.involvements
    ]
    if involvements:
        session.execute(insert(CASE_INVOLVEMENT), involvements)
    _record(uow, file, created, plan.updated)
    tally.added.extend(f"{r.area_id}/{r.reference}" for r in plan.added)
    tally.updated.extend(f"{r.area_id}/{r.reference}" for _, r, _ in plan.updated)
    tally.unchanged += plan.unchanged


def _record(
    uow: UnitOfWork,
    file: str,
    created: Sequence[tuple[int, RegisterRow]],
    updated: Sequence[tuple[int, RegisterRow, list[str]]],
) -> None:
    """One audit event for the cases a chunk added, and one for those it updated (with what
    changed in each): a large register leaves a few hundred events, not one per case."""
    if created:
        cases = [{"id": case_id, "area": r.area_id, "reference": r.reference}
                 for case_id, r in created]  # fmt: skip
        uow.record("cases_added", "case_register", file, details={"cases": cases})
    if updated:
        cases = [{"id": case_id, "area": r.area_id, "reference": r.reference, "fields": changed}
                 for case_id, r, changed in updated]  # fmt: skip
        uow.record("cases_updated", "case_register", file, details={"cases": cases})


Stored = tuple[int, dict[str, Any], dict[str, tuple[str, ...]]]  # id, values, involvements


def _by_area(rows: Sequence[RegisterRow]) -> dict[str, list[str]]:
    wanted: dict[str, list[str]] = {}
    for row in rows:
        wanted.setdefault(row.area_id, []).append(row.reference)
    return wanted


def _ids(session: Session, rows: Sequence[RegisterRow]) -> dict[str, dict[str, int]]:
    """The ids of the cases of ``rows``, by area and reference."""
    ids: dict[str, dict[str, int]] = {}
    for area_id, references in _by_area(rows).items():
        query = select(CaseFile.reference, CaseFile.id).where(
            CaseFile.area_id == area_id, CaseFile.reference.in_(references)
        )
        ids[area_id] = {reference: case_id for reference, case_id in session.execute(query)}
    return ids


def _stored(session: Session, rows: Sequence[RegisterRow]) -> dict[tuple[str, str], Stored]:
    """The cases of ``rows`` already in the register, with their values and involvements."""
    found: dict[tuple[str, str], Stored] = {}
    by_id: dict[int, dict[str, tuple[str, ...]]] = {}
    for area_id, references in _by_area(rows).items():
        query = (
            select(CaseFile.id, CaseFile.reference)
            .add_columns(*(getattr(CaseFile, key) for key in _STORED))
            .where(CaseFile.area_id == area_id, CaseFile.reference.in_(references))
        )
        for case_id, reference, *stored in session.execute(query):
            by_id[case_id] = {}
            found[(area_id, reference)] = (case_id, dict(zip(_STORED, stored, strict=True)),
                                           by_id[case_id])  # fmt: skip
    if by_id:
        for case_id, agency_id, practitioners in session.execute(
            select(
                CaseInvolvement.case_id,
                CaseInvolvement.agency_id,
                CaseInvolvement.practitioner_ids,
            ).where(CaseInvolvement.case_id.in_(list(by_id)))
        ):
            by_id[case_id][agency_id] = tuple(sorted(practitioners or ()))
    return found


def _new_case(row: RegisterRow, now: dt.datetime) -> dict[str, Any]:
    return {
        "area_id": row.area_id,
        "reference": row.reference,
        **_fields(row),
        "created_at": now,
        "updated_at": now,
    }


def _fields(row: RegisterRow) -> dict[str, Any]:
    return {
        "category": row.category,
        "age_band": row.age_band,
        "flags": list(row.flags),
        "opened_on": row.opened_on,
        "last_activity_on": row.last_activity_on,
        "closed_on": row.closed_on,
        "last_audited_on": row.last_audited_on,
    }


def _comparable(value: Any) -> Any:
    return sorted(value) if isinstance(value, list) else value
