"""Reviewing a planned round: everything ``auditround round show`` prints.

:func:`show_round` gathers the cases with their rationale, the assignments by
agency, each auditor's load against capacity, the unfilled slots and the
timeline into a :class:`RoundView` of plain values, for the CLI and the flow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from audit_core.domain.assignment import Slot, unfilled_reason
from audit_core.domain.launch_day import launch_moment, opened_early
from audit_core.domain.models import Assignment, AuditRound, CaseFile, Person, RoundCase
from audit_core.domain.policy import BoardConfig
from audit_core.domain.workdays import Timeline, round_timeline, timeline_json, zone
from audit_core.services.queries import get_round, round_auditors, shown_states
from audit_core.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class CaseLine:
    reference: str
    area_id: str
    stratum: str
    rationale: str
    agencies: tuple[str, ...]


@dataclass(frozen=True)
class AssignmentLine:
    agency_id: str
    agency_name: str
    case_ref: str
    area_id: str
    auditor_id: str | None
    auditor_name: str | None
    status: str
    due_on: dt.date | None = None  # this audit's deadline (later than the round's if extended)


@dataclass(frozen=True)
class LoadLine:
    auditor_id: str
    name: str
    agency_id: str
    load: int
    capacity: int
    elsewhere: int = 0  # audits held in other rounds whose fieldwork overlaps this one


@dataclass(frozen=True)
class UnfilledLine:
    case_ref: str
    area_id: str
    agency_id: str
    reason: str


@dataclass(frozen=True)
class Opening:
    """When the round opens, or opened, in the board's zone; and if it was stopped, why."""

    timezone: str
    launch_at: dt.datetime  # the planned moment: its launch date at the cadence's launch_time
    launched_at: dt.datetime | None  # when it really opened
    early: bool | None  # opened before its planned day (with --early); None: not opened
    cancelled_at: dt.datetime | None
    cancel_reason: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "planned_launch_at": self.launch_at.isoformat(),
            "launched_at": self.launched_at.isoformat() if self.launched_at else None,
            "launched_early": self.early,
            "cancelled_at": self.cancelled_at.isoformat() if self.cancelled_at else None,
            "cancel_reason": self.cancel_reason,
        }


def opening(config: BoardConfig, audit_round: AuditRound) -> Opening:
    """The round's planned and real opening, in the board's zone."""
    timezone = config.board.timezone
    local = zone(timezone)
    launched = audit_round.launched_at
    return Opening(
        timezone=timezone,
        launch_at=launch_moment(audit_round.launch_on, config.cadence.launch_time, timezone),
        launched_at=launched.astimezone(local) if launched else None,
        early=opened_early(audit_round.launch_on, launched, timezone) if launched else None,
        cancelled_at=audit_round.cancelled_at.astimezone(local)
        if audit_round.cancelled_at
        else None,
        cancel_reason=audit_round.cancel_reason,
    )


@dataclass(frozen=True)
class RoundView:
    """Everything the business unit checks before launching a round."""

    round_id: str
    focus_id: str
    focus_name: str
    status: str
    areas: tuple[str, ...]
    seed: int
    cases_requested: dict[str, int]
    audit_tool: str
    planned_at: dt.datetime
    planned_by: str
    cases: tuple[CaseLine, ...]
    assignments: tuple[AssignmentLine, ...]  # ordered by agency, then area and case
    loads: tuple[LoadLine, ...]
    unfilled: tuple[UnfilledLine, ...]
    timeline: Timeline
    opening: Opening | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round_id,
            "focus": {"id": self.focus_id, "name": self.focus_name},
            "status": self.status,
            "areas": list(self.areas),
            "seed": self.seed,
            "cases_requested_per_area": self.cases_requested,
            "audit_tool": self.audit_tool,
            "planned_at": self.planned_at.isoformat(),
            "planned_by": self.planned_by,
            **(self.opening.to_json() if self.opening else {}),
            "cases": [
                {
                    "reference": c.reference,
                    "area": c.area_id,
                    "stratum": c.stratum,
                    "rationale": c.rationale,
                    "agencies": list(c.agencies),
                }
                for c in self.cases
            ],
            "assignments": [
                {
                    "agency": a.agency_id,
                    "case_ref": a.case_ref,
                    "area": a.area_id,
                    "auditor": a.auditor_id,
                    "status": a.status,
                    "due_on": a.due_on.isoformat() if a.due_on else None,
                }
                for a in self.assignments
            ],
            "loads": [
                {
                    "auditor": x.auditor_id,
                    "agency": x.agency_id,
                    "load": x.load,
                    "capacity": x.capacity,
                    "in_overlapping_rounds": x.elsewhere,
                }
                for x in self.loads
            ],
            "unfilled": [
                {
                    "case_ref": u.case_ref,
                    "area": u.area_id,
                    "agency": u.agency_id,
                    "reason": u.reason,
                }
                for u in self.unfilled
            ],
            "timeline": timeline_json(self.timeline),
        }


def show_round(uow: UnitOfWork, round_id: str) -> RoundView:
    """Read a round's plan: cases and why, assignments by agency, loads, gaps, timeline."""
    session, config = uow.session, uow.config
    audit_round = get_round(session, round_id)
    round_cases = list(
        session.scalars(
            select(RoundCase)
            .where(RoundCase.round_id == audit_round.id)
            .options(
                selectinload(RoundCase.case).selectinload(CaseFile.involvements),
                selectinload(RoundCase.assignments).selectinload(Assignment.agency),
                selectinload(RoundCase.assignments).selectinload(Assignment.auditor),
            )
        )
    )
    area_rank = {a: i for i, a in enumerate(audit_round.areas)}
    round_cases.sort(key=lambda rc: (area_rank.get(rc.area_id, 99), rc.stratum, rc.case.reference))
    auditors = {a.id: a for a in round_auditors(session, audit_round.id)}
    people = {p.id: p for p in session.scalars(select(Person))}
    states = shown_states(session, [a for rc in round_cases for a in rc.assignments])
    cases, lines, unfilled = [], [], []
    for rc in round_cases:
        cases.append(
            CaseLine(
                rc.case.reference,
                rc.area_id,
                rc.stratum,
                rc.rationale,
                tuple(a.agency_id for a in rc.assignments),
            )
        )
        practitioners = {i.agency_id: i.practitioner_ids for i in rc.case.involvements}
        for a in rc.assignments:
            lines.append(
                AssignmentLine(
                    a.agency_id,
                    a.agency.name,
                    rc.case.reference,
                    rc.area_id,
                    a.auditor_id,
                    a.auditor.name if a.auditor else None,
                    states[a.id],
                    a.due_on,
                )
            )
            if a.auditor_id is None:
                slot = Slot(
                    key=str(a.id),
                    area_id=rc.area_id,
                    agency_id=a.agency_id,
                    practitioner_ids=frozenset(practitioners.get(a.agency_id) or ()),
                )
                unfilled.append(
                    UnfilledLine(
                        rc.case.reference,
                        rc.area_id,
                        a.agency_id,
                        unfilled_reason(slot, auditors.values()),
                    )
                )
    lines.sort(key=lambda x: (x.agency_id, area_rank.get(x.area_id, 99), x.case_ref))
    loads = sorted(
        (
            LoadLine(
                p.id,
                p.name,
                p.agency_id,
                auditors[p.id].held,
                p.capacity,
                auditors[p.id].held_elsewhere,
            )
            for p in people.values()
            if auditors[p.id].held
        ),
        key=lambda x: (-x.load, x.agency_id, x.auditor_id),
    )
    focus_name = next((f.name for f in config.focuses if f.id == audit_round.focus_id), "")
    return RoundView(
        round_id=audit_round.id,
        focus_id=audit_round.focus_id,
        focus_name=focus_name or audit_round.focus_id,
        status=audit_round.status,
        areas=tuple(audit_round.areas),
        seed=audit_round.seed,
        cases_requested=dict(audit_round.cases_requested),
        audit_tool=f"{audit_round.audit_tool_id} v{audit_round.audit_tool_version}",
        planned_at=audit_round.planned_at,
        planned_by=audit_round.planned_by,
        cases=tuple(cases),
        assignments=tuple(lines),
        loads=tuple(loads),
        unfilled=tuple(unfilled),
        opening=opening(config, audit_round),
        timeline=round_timeline(
            audit_round.launch_on,
            config.cadence,
            due_on=audit_round.due_on,
            audit_day_on=audit_round.audit_day_on,
            briefing_due_on=audit_round.briefing_due_on,
        ),
    )
