"""Collating a round for its audit day: ``auditround round collate`` and the flow
``collate-round``.

:func:`collate` reads every case, audit and return of a launched round (in three
queries and the outbox's look-up of the task emails, whatever the round's size) and
hands them to :func:`audit_core.domain.collation.collate_audits`, where the figures
are worked out. Only submitted returns count.

A collation reads every return, and returns are sensitive: each collation is kept in
the audit trail (``round_collated``, with who asked and the counts only). The
descriptions of immediate safeguarding concerns are in it, for the business unit
alone: anything shared beyond it (the Prefect report, a briefing) leaves them out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from audit_core.domain.collation import Audit, CaseKey, Figures, collate_audits, outstanding_state
from audit_core.domain.errors import InvalidState
from audit_core.domain.models import (
    Assignment,
    AuditReturn,
    AuditRound,
    ReturnStatus,
    RoundCase,
    RoundStatus,
)
from audit_core.domain.recurrence import Recurring, named, recurring_from
from audit_core.domain.returns import ReturnForm, from_stored
from audit_core.domain.workdays import zone
from audit_core.services.queries import area_names, get_round, shown_states
from audit_core.services.recurrence import previous_lessons
from audit_core.services.unit_of_work import UnitOfWork

BUSINESS_UNIT_ONLY = (
    "The descriptions of immediate concerns are for the business unit only: leave them out "
    "of anything shared with the audit day or the partnership."
)


@dataclass(frozen=True)
class Collation:
    """A round's returns collated, as plain values, for the command and the flow."""

    round_id: str
    status: str
    focus_id: str
    focus_name: str
    audit_tool: str  # "macfa v1"
    scale_name: str
    collated_at: dt.datetime  # in the board's zone
    figures: Figures
    # each area's lesson themes (of the returns) that were lessons going forward in the
    # area's previous round: well established findings, for the audit day to weigh
    recurring: tuple[Recurring, ...] = ()

    def to_json(self) -> dict[str, Any]:
        f = self.figures
        return {
            "round": self.round_id,
            "status": self.status,
            "focus": {"id": self.focus_id, "name": self.focus_name},
            "audit_tool": self.audit_tool,
            "scale": {
                "name": self.scale_name,
                "grades": [{"id": g, "label": label, "score": s} for g, label, s in f.grades],
            },
            "collated_at": self.collated_at.isoformat(),
            "totals": f.totals.to_json(),
            "grades_by_section": [s.to_json() for s in f.by_section],
            "grades_by_agency": [a.to_json() for a in f.by_agency],
            "cases": [c.to_json() for c in f.cases],
            "strengths_by_theme": [t.to_json(strength=True) for t in f.strengths],
            "lessons_by_theme": [t.to_json(strength=False) for t in f.lessons],
            "recurring_lessons": [r.to_json() for r in self.recurring],
            "not_received": [n.to_json() for n in f.not_received],
            "immediate_concerns": {
                "business_unit_only": True,
                "note": BUSINESS_UNIT_ONLY,
                "raised": [c.to_json() for c in f.concerns],
            },
        }


def collate(uow: UnitOfWork, round_id: str) -> Collation:
    """Collate the submitted returns of a launched round; the reading is recorded."""
    session, config = uow.session, uow.config
    audit_round = get_round(session, round_id)
    if audit_round.status == RoundStatus.PLANNED:
        raise InvalidState(
            f"Round {audit_round.id} is planned: it has no returns to collate until it is launched."
        )
    round_cases = _round_cases(uow, audit_round)
    cases, audits = _audits(uow, audit_round, round_cases)
    figures = collate_audits(config.audit_tool, config.scale, config.themes, cases, audits)
    uow.record(
        "round_collated",
        "audit_round",
        audit_round.id,
        round_id=audit_round.id,
        details={**figures.totals.to_json(), "concerns": len(figures.concerns)},
    )
    focus = next((f.name for f in config.focuses if f.id == audit_round.focus_id), None)
    return Collation(
        round_id=audit_round.id,
        status=audit_round.status,
        focus_id=audit_round.focus_id,
        focus_name=focus or audit_round.focus_id,
        audit_tool=f"{audit_round.audit_tool_id} v{audit_round.audit_tool_version}",
        scale_name=config.scale.name,
        collated_at=uow.now.astimezone(zone(uow.timezone)),
        figures=figures,
        recurring=_recurring(uow, audit_round, figures),
    )


def _recurring(uow: UnitOfWork, audit_round: AuditRound, figures: Figures) -> tuple[Recurring, ...]:
    """For each area of the round that had a round before it: the themes of the returns'
    lessons there that were lessons going forward in that round too."""
    names = {t.id: t.name for t in uow.config.themes}
    areas = {c.area_id: c.area_name for c in figures.cases}
    made = []
    for area_id, before in previous_lessons(uow.session, audit_round).items():
        now = {g.theme_id for g in figures.lessons for e in g.entries if e.area_id == area_id}
        themes = named(recurring_from(before.themes, now), names)
        made.append(Recurring(area_id, areas.get(area_id, area_id), before.round_id, themes))
    return tuple(made)


def round_audits(uow: UnitOfWork, audit_round: AuditRound) -> tuple[list[CaseKey], list[Audit]]:
    """The round's cases and every audit of them with its return, as collation reads them
    (for the year's report, which works its figures out the same way); nothing recorded."""
    return _audits(uow, audit_round, _round_cases(uow, audit_round))


def _round_cases(uow: UnitOfWork, audit_round: AuditRound) -> list[RoundCase]:
    """The round's cases with their audits, agencies and auditors, in the round's area order."""
    round_cases = list(
        uow.session.scalars(
            select(RoundCase)
            .where(RoundCase.round_id == audit_round.id)
            .options(
                selectinload(RoundCase.case),
                selectinload(RoundCase.assignments).selectinload(Assignment.agency),
                selectinload(RoundCase.assignments).selectinload(Assignment.auditor),
            )
        )
    )
    rank = {a: i for i, a in enumerate(audit_round.areas)}
    return sorted(round_cases, key=lambda rc: (rank.get(rc.area_id, 99), rc.case.reference))


def _audits(
    uow: UnitOfWork, audit_round: AuditRound, round_cases: Sequence[RoundCase]
) -> tuple[list[CaseKey], list[Audit]]:
    """The cases and every audit of them, with its return as saved (one query for all)."""
    session = uow.session
    returns = {
        r.assignment_id: r
        for r in session.scalars(
            select(AuditReturn)
            .join(Assignment, Assignment.id == AuditReturn.assignment_id)
            .join(RoundCase, RoundCase.id == Assignment.round_case_id)
            .where(RoundCase.round_id == audit_round.id)
        )
    }
    delivery = shown_states(session, [a for rc in round_cases for a in rc.assignments])
    names = area_names(session)
    cases, audits = [], []
    for rc in round_cases:
        case = CaseKey(rc.case.reference, rc.area_id, names.get(rc.area_id, rc.area_id))
        cases.append(case)
        for a in sorted(rc.assignments, key=lambda a: a.agency_id):
            found = returns.get(a.id)
            audits.append(
                Audit(
                    case=case,
                    agency_id=a.agency_id,
                    agency_name=a.agency.name,
                    auditor_id=a.auditor_id,
                    auditor_name=a.auditor.name if a.auditor else None,
                    due_on=a.due_on,
                    state=outstanding_state(
                        delivery[a.id],
                        opened=a.opened_at is not None,
                        draft=found is not None and found.status == ReturnStatus.DRAFT,
                        reopened=found is not None and found.reopened_at is not None,
                    ),
                    return_status=found.status if found else None,
                    form=_form_of(found) if found else None,
                )
            )
    return cases, audits


def _form_of(found: AuditReturn) -> ReturnForm:
    return from_stored(
        found.answers or {},
        found.strengths or [],
        found.lessons or [],
        found.immediate_concern,
        found.concern_text,
    )
