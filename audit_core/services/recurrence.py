"""Looking up what an area's previous round learned, for the well established findings.

:func:`previous_lessons` finds, for each area of a round, the area's round launched just
before it (not cancelled: :func:`audit_core.domain.recurrence.previous_round`) and the
themes of the lessons that went forward there from the area's cases. Collation and the
audit day's record compare a round's lessons with them. Plain reads; nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_core.domain.models import AuditRound, Finding, FindingKind, RoundStatus
from audit_core.domain.recurrence import AreaRound, previous_round


@dataclass(frozen=True)
class PreviousLessons:
    """An area's previous round and the themes of the lessons that went forward there."""

    area_id: str
    round_id: str
    themes: frozenset[str]


def previous_lessons(
    session: Session, audit_round: AuditRound, area_ids: Iterable[str] | None = None
) -> dict[str, PreviousLessons]:
    """For each area of the round (or of ``area_ids``) that had a round before it, that round
    and its forwarded lesson themes there."""
    launched = list(
        session.scalars(
            select(AuditRound).where(
                AuditRound.launched_at.is_not(None), AuditRound.status != RoundStatus.CANCELLED
            )
        )
    )
    before: dict[str, str] = {}
    for area_id in area_ids if area_ids is not None else audit_round.areas:
        history = [AreaRound(r.id, r.launched_at) for r in launched if area_id in r.areas]
        found = previous_round(history, audit_round.id)
        if found is not None:
            before[area_id] = found.round_id
    themes = lesson_themes(session, set(before.values()))
    return {
        area_id: PreviousLessons(area_id, rid, themes.get((rid, area_id), frozenset()))
        for area_id, rid in before.items()
    }


def lesson_themes(session: Session, round_ids: set[str]) -> dict[tuple[str, str], frozenset[str]]:
    """(round, area) -> the themes of the round's lessons that went forward from the area's
    cases."""
    if not round_ids:
        return {}
    found: dict[tuple[str, str], set[str]] = {}
    rows = session.execute(
        select(Finding.round_id, Finding.theme_id, Finding.case_refs).where(
            Finding.round_id.in_(round_ids),
            Finding.kind == FindingKind.LESSON,
            Finding.forward.is_(True),
        )
    )
    for round_id, theme_id, case_refs in rows:
        for area_id in {ref.get("area") for ref in case_refs or [] if ref.get("area")}:
            found.setdefault((round_id, area_id), set()).add(theme_id)
    return {key: frozenset(themes) for key, themes in found.items()}
