"""Adjusting a round: swap a case before launch, reassign an auditor before or after it.

Both apply the same rules as planning (eligibility, conflicts of interest,
capacity); a case is swapped only while the round is ``planned``, an auditor is
reassigned while it is planned or open (after launch, through
:mod:`audit_core.services.fieldwork`); each change writes audit events in the unit
of work's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit_core.domain.errors import NotFound, PlanningError
from audit_core.domain.models import RoundCase, RoundStatus
from audit_core.domain.selection import Criteria, rationale, stratum_order, why_ineligible
from audit_core.services.fieldwork import check_eligible, find_assignment, hand_over
from audit_core.services.planning import assign_cases, record_selected
from audit_core.services.queries import (
    find_round_case,
    get_round,
    load_candidates,
    removed_case_ids,
)
from audit_core.services.reference import sync_reference_data
from audit_core.services.unit_of_work import UnitOfWork


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
    uow: UnitOfWork,
    *,
    round_id: str,
    out_ref: str,
    in_ref: str | None = None,
    area_id: str | None = None,
) -> SwapResult:
    """Replace a selected case by another eligible case of the same area.

    1. The round must still be planned; find the case to take out.
    2. With ``in_ref``, check that case against every selection rule. Without it, take
       the next eligible case of the same stratum in the round's seeded order, skipping
       cases taken out of this round before.
    3. Remove the old case and its assignments; add the new case; assign auditors to its
       agencies under the same rules and loads as the rest of the round.
    """
    session, config = uow.session, uow.config
    audit_round = get_round(session, round_id)
    audit_round.require_planned()
    sync_reference_data(uow)
    old = find_round_case(session, audit_round, out_ref, area_id)
    area = old.area_id
    criteria = Criteria.from_config(config, config.focus(audit_round.focus_id))
    today = uow.today
    if in_ref is not None:
        found = load_candidates(session, area_ids=[area], references=[in_ref])
        if not found:
            raise NotFound(f"There is no case {in_ref} in area {area} in the register.")
        candidate = found[0]
        reason = why_ineligible(candidate, criteria, today)
        if reason is not None:
            raise PlanningError(f"Case {in_ref} cannot join round {audit_round.id}: {reason}.")
    else:
        removed_before = removed_case_ids(session, audit_round.id) | {old.case_id}
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
                "name the case to put in instead.",
                missing="replacement",
            )
        candidate = stratum_order(pool, audit_round.seed, area, old.stratum)[0]

    released = [(a.agency_id, a.auditor_id) for a in old.assignments]
    uow.record(
        "case_removed",
        "round_case",
        old.id,
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
        selected_at=uow.now,
    )
    session.add(new)
    session.flush()
    record_selected(uow, [(new, candidate.reference)])
    outcome = assign_cases(uow, audit_round, [(new, candidate)])
    return SwapResult(
        round_id=audit_round.id,
        area_id=area,
        removed=out_ref,
        added=candidate.reference,
        stratum=new.stratum,
        rationale=new.rationale,
        assigned=tuple(outcome.assigned),
    )


@dataclass(frozen=True)
class ReassignResult:
    round_id: str
    case_ref: str
    agency_id: str
    previous: str | None
    auditor_id: str | None
    changed: bool = True  # False: it was so already; nothing was changed or queued
    queued: tuple[str, ...] = ()  # open round: the dedupe keys of the emails queued


def reassign(
    uow: UnitOfWork,
    *,
    round_id: str,
    case_ref: str,
    agency_id: str,
    auditor_id: str | None,
    area_id: str | None = None,
) -> ReassignResult:
    """Give one agency's audit of a case to a named auditor, or clear it (``None``).

    The auditor must pass every assignment rule (active, the agency, the area, no
    conflict of interest, capacity left in the round); the refusal names the rule.
    In a planned round that is all. In an open round the audit is handed over
    (:func:`audit_core.services.fieldwork.hand_over`): the old link stops working, the
    new auditor gets their task and the released auditor a note. One use case for both,
    so that the rules and the command are the same before and after launch.
    """
    session = uow.session
    audit_round = get_round(session, round_id)
    if audit_round.status == RoundStatus.OPEN:
        round_case = find_round_case(session, audit_round, case_ref, area_id)
        change = hand_over(uow, audit_round, find_assignment(round_case, agency_id), auditor_id)
        return ReassignResult(
            audit_round.id,
            case_ref,
            agency_id,
            change.previous,
            change.auditor_id,
            change.changed,
            change.queued,
        )
    audit_round.require_planned()
    sync_reference_data(uow)
    round_case = find_round_case(session, audit_round, case_ref, area_id)
    assignment = find_assignment(round_case, agency_id)
    previous = assignment.auditor_id
    if auditor_id is not None:
        check_eligible(uow, audit_round, assignment, auditor_id)
    if previous == auditor_id:
        return ReassignResult(audit_round.id, case_ref, agency_id, previous, auditor_id, False)
    assignment.give_to(auditor_id, uow.now)
    uow.record(
        "auditor_reassigned" if auditor_id else "auditor_cleared",
        "assignment",
        assignment.id,
        round_id=audit_round.id,
        details={"case_ref": case_ref, "agency": agency_id, "from": previous, "to": auditor_id},
    )
    session.flush()
    return ReassignResult(audit_round.id, case_ref, agency_id, previous, auditor_id)
