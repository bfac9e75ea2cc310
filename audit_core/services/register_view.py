"""The register at a glance: its cases, filtered, and how many there are by area and category.

Only what the register holds is shown: pseudonymous references, categories,
age bands, flags, the agencies involved and the key dates; never a
practitioner id (they appear only where a conflict of interest is judged).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from audit_core.domain.models import CaseFile, CaseInvolvement, RoundCase


@dataclass(frozen=True)
class CaseFilter:
    """Which cases to show; ``None`` is any."""

    area: str | None = None
    category: str | None = None
    flag: str | None = None
    agency: str | None = None


@dataclass(frozen=True)
class CaseSummary:
    reference: str
    area_id: str
    category: str
    age_band: str
    flags: tuple[str, ...]
    agencies: tuple[str, ...]
    last_activity_on: dt.date
    last_audited_on: dt.date | None
    rounds: tuple[str, ...]  # the rounds it was selected for


@dataclass
class RegisterView:
    total: int = 0
    counts: dict[str, Counter[str]] = field(default_factory=dict)  # area -> category -> cases
    cases: list[CaseSummary] = field(default_factory=list)  # the first ``limit`` of them


def view_register(session: Session, which: CaseFilter, *, limit: int | None = 50) -> RegisterView:
    """The cases that match ``which`` (area, category, agency in the query; the flag after),
    ordered by area and reference: every one counted, the first ``limit`` listed."""
    conditions: list[ColumnElement[bool]] = []
    if which.area is not None:
        conditions.append(CaseFile.area_id == which.area)
    if which.category is not None:
        conditions.append(CaseFile.category == which.category)
    if which.agency is not None:
        conditions.append(
            CaseFile.id.in_(
                select(CaseInvolvement.case_id).where(CaseInvolvement.agency_id == which.agency)
            )
        )
    rows = session.execute(
        select(
            CaseFile.id,
            CaseFile.reference,
            CaseFile.area_id,
            CaseFile.category,
            CaseFile.age_band,
            CaseFile.flags,
            CaseFile.last_activity_on,
            CaseFile.last_audited_on,
        )
        .where(*conditions)
        .order_by(CaseFile.area_id, CaseFile.reference)
    ).all()
    if which.flag is not None:
        rows = [row for row in rows if which.flag in (row.flags or ())]
    view = RegisterView(total=len(rows))
    for row in rows:
        view.counts.setdefault(row.area_id, Counter())[row.category] += 1
    shown = rows if limit is None else rows[:limit]
    agencies, rounds = _involved(session, [row.id for row in shown])
    view.cases = [
        CaseSummary(
            row.reference,
            row.area_id,
            row.category,
            row.age_band,
            tuple(sorted(row.flags or ())),
            tuple(agencies.get(row.id, ())),
            row.last_activity_on,
            row.last_audited_on,
            tuple(rounds.get(row.id, ())),
        )
        for row in shown
    ]
    return view


def _involved(
    session: Session, case_ids: list[int]
) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """The agencies involved in each case, and the rounds each was selected for."""
    agencies: dict[int, list[str]] = defaultdict(list)
    rounds: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(case_ids), 500):
        chunk = case_ids[start : start + 500]
        for case_id, agency_id in session.execute(
            select(CaseInvolvement.case_id, CaseInvolvement.agency_id)
            .where(CaseInvolvement.case_id.in_(chunk))
            .order_by(CaseInvolvement.agency_id)
        ):
            agencies[case_id].append(agency_id)
        for case_id, round_id in session.execute(
            select(RoundCase.case_id, RoundCase.round_id)
            .where(RoundCase.case_id.in_(chunk))
            .order_by(RoundCase.round_id)
        ):
            rounds[case_id].append(round_id)
    return agencies, rounds
