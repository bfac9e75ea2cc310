"""Adjusting a planned round before launch: swap a case, reassign an auditor.

Both apply the same rules as planning (eligibility, conflicts of interest,
capacity) and only while the round is ``planned``; each change writes audit
events in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_core import audit_trail
from audit_core.assignment import Slot, why_not_eligible
from audit_core.clock import london_date
from audit_core.config import BoardConfig
from audit_core.errors import NotFound, PlanningError
from audit_core.models import AssignmentStatus, AuditEvent, CaseInvolvement, Person, RoundCase
from audit_core.reference import sync_reference_data
from audit_core.rounds import (
    assign_cases,
    find_round_case,
    get_round,
    load_candidates,
    record_selected,
    require_planned,
    round_auditors,
)
from audit_core.selection import Criteria, rationale, stratum_order, why_ineligible


@dataclass(frozen=True)
class SwapResult:
    round_id: str
    area_id: str
    removed: str
    added: str
    stratum: str
    rationale: str
    assigned: tuple[tuple[str, str | None], ...]  # (agency, auditor or None if unfilled)


def swap_case(
    session: Session,
    config: BoardConfig,
    *,
    round_id: str,
    out_ref: str,
    in_ref: str | None = None,
    area_id: str | None = None,
    now: dt.datetime,
    actor: str,
) -> SwapResult:
    """Replace a selected case by another eligible case of the same area.

    1. The round must still be planned; find the case to take out.
    2. With ``in_ref``, check that case against every selection rule. Without it, take
       the next eligible case of the same stratum in the round's seeded order, skipping
       cases taken out of this round before.
    3. Remove the old case and its assignments; add the new case; assign auditors to its
       agencies under the same rules and loads as the rest of the round.
    """
    audit_round = get_round(session, round_id)
    require_planned(audit_round)
    sync_reference_data(session, config, now=now, actor=actor)
    old = find_round_case(session, audit_round, out_ref, area_id)
    area = old.area_id
    criteria = Criteria.from_config(config, config.focus(audit_round.focus_id))
    today = london_date(now)
    if in_ref is not None:
        found = load_candidates(session, area_ids=[area], references=[in_ref])
        if not found:
            raise NotFound(f"There is no case {in_ref} in area {area} in the register.")
        candidate = found[0]
        reason = why_ineligible(candidate, criteria, today)
        if reason is not None:
            raise PlanningError(f"Case {in_ref} cannot join round {audit_round.id}: {reason}.")
    else:
        removed_before = _removed_case_ids(session, audit_round.id) | {old.case_id}
        category, age_band = old.stratum.split("/", 1)
        pool = [
            c
            for c in load_candidates(session, area_ids=[area], categories=[category])
            if c.age_band == age_band
            and c.case_id not in removed_before
            and why_ineligible(c, criteria, today) is None
        ]
        if not pool:
            raise PlanningError(
                f"No other eligible case is left in stratum {old.stratum} in area {area}; "
                "name the replacement with --in."
            )
        candidate = stratum_order(pool, audit_round.seed, area, old.stratum)[0]

    released = [(a.agency_id, a.auditor_id) for a in old.assignments]
    audit_trail.record(
        session,
        now=now,
        actor=actor,
        action="case_removed",
        object_type="round_case",
        object_id=old.id,
        round_id=audit_round.id,
        details={
            "case_id": old.case_id,
            "case_ref": out_ref,
            "area": area,
            "stratum": old.stratum,
            "replaced_by": candidate.reference,
            "released": [{"agency": ag, "auditor": au} for ag, au in released],
        },
    )
    session.delete(old)
    session.flush()
    session.expire(audit_round, ["cases"])
    new = RoundCase(
        round_id=audit_round.id,
        case_id=candidate.case_id,
        area_id=area,
        stratum=candidate.stratum,
        rationale=rationale(candidate, criteria),
        selected_at=now,
    )
    session.add(new)
    session.flush()
    record_selected(session, [(new, candidate.reference)], now=now, actor=actor)
    outcome = assign_cases(session, audit_round, [(new, candidate)], now=now, actor=actor)
    return SwapResult(
        round_id=audit_round.id,
        area_id=area,
        removed=out_ref,
        added=candidate.reference,
        stratum=new.stratum,
        rationale=new.rationale,
        assigned=tuple(outcome.assigned),
    )


def _removed_case_ids(session: Session, round_id: str) -> set[int]:
    events = session.scalars(
        select(AuditEvent).where(
            AuditEvent.round_id == round_id, AuditEvent.action == "case_removed"
        )
    )
    return {int(e.details["case_id"]) for e in events if "case_id" in e.details}


@dataclass(frozen=True)
class ReassignResult:
    round_id: str
    case_ref: str
    agency_id: str
    previous: str | None
    auditor_id: str | None


def reassign(
    session: Session,
    config: BoardConfig,
    *,
    round_id: str,
    case_ref: str,
    agency_id: str,
    auditor_id: str | None,
    area_id: str | None = None,
    now: dt.datetime,
    actor: str,
) -> ReassignResult:
    """Give one agency's audit of a case to a named auditor, or clear it (``None``).

    The auditor must pass every assignment rule (active, the agency, the area, no
    conflict of interest, capacity left in the round); the refusal names the rule.
    """
    audit_round = get_round(session, round_id)
    require_planned(audit_round)
    sync_reference_data(session, config, now=now, actor=actor)
    round_case = find_round_case(session, audit_round, case_ref, area_id)
    assignment = next((a for a in round_case.assignments if a.agency_id == agency_id), None)
    if assignment is None:
        involved = ", ".join(a.agency_id for a in round_case.assignments) or "none"
        raise NotFound(
            f"Agency {agency_id} is not involved in case {case_ref} in round {audit_round.id} "
            f"(involved: {involved})."
        )
    previous = assignment.auditor_id
    if auditor_id is not None:
        if session.get(Person, auditor_id) is None:
            raise NotFound(f"There is no auditor '{auditor_id}' in the configuration.")
        auditor = next(
            a
            for a in round_auditors(session, audit_round.id, except_assignment=assignment.id)
            if a.id == auditor_id
        )
        involvement = session.scalars(
            select(CaseInvolvement).where(
                CaseInvolvement.case_id == round_case.case_id,
                CaseInvolvement.agency_id == agency_id,
            )
        ).one_or_none()
        slot = Slot(
            key=str(assignment.id),
            area_id=round_case.area_id,
            agency_id=agency_id,
            practitioner_ids=frozenset(involvement.practitioner_ids or ())
            if involvement
            else frozenset(),
        )
        reason = why_not_eligible(slot, auditor)
        if reason is not None:
            raise PlanningError(
                f"{auditor_id} cannot audit case {case_ref} for {agency_id}: the auditor {reason}."
            )
    if previous == auditor_id:
        return ReassignResult(audit_round.id, case_ref, agency_id, previous, auditor_id)
    assignment.auditor_id = auditor_id
    assignment.status = AssignmentStatus.ASSIGNED if auditor_id else AssignmentStatus.UNFILLED
    assignment.updated_at = now
    audit_trail.record(
        session,
        now=now,
        actor=actor,
        action="auditor_reassigned" if auditor_id else "auditor_cleared",
        object_type="assignment",
        object_id=assignment.id,
        round_id=audit_round.id,
        details={"case_ref": case_ref, "agency": agency_id, "from": previous, "to": auditor_id},
    )
    session.flush()
    return ReassignResult(audit_round.id, case_ref, agency_id, previous, auditor_id)


# --- review ----------------------------------------------------------------------------
