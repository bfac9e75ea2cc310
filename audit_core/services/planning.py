"""Planning a round: select its cases, assign its auditors, fix its timeline.

A round is one focus in one period (its id, ``2026-H1`` or ``2026-H2``) across
one or more areas. :func:`plan_round` selects the cases
(:mod:`audit_core.domain.selection`), assigns an auditor to each involved agency
of each case (:mod:`audit_core.domain.assignment`) and fixes the timeline
(:mod:`audit_core.domain.workdays`). Until the round is launched, the business
unit can look at the plan (:mod:`.round_view`), swap a case or change an
auditor (:mod:`.round_changes`); both apply the same rules as planning.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from audit_core.domain.assignment import Slot, assign
from audit_core.domain.errors import PlanningError
from audit_core.domain.models import (
    Assignment,
    AssignmentStatus,
    AuditRound,
    CaseFile,
    RoundCase,
    RoundStatus,
)
from audit_core.domain.periods import check_in_period, parse_period, period_bounds
from audit_core.domain.policy import Focus
from audit_core.domain.selection import Candidate, Criteria, months_before, select_cases
from audit_core.domain.workdays import (
    Timeline,
    next_working_day,
    round_timeline,
    timeline_json,
    why_not_working,
)
from audit_core.services.queries import load_candidates, newest_activity, round_auditors
from audit_core.services.reference import sync_reference_data
from audit_core.services.round_ids import move_aside
from audit_core.services.unit_of_work import UnitOfWork

MAX_SEED = 2**31 - 1  # the seed column is a 32-bit integer


@dataclass(frozen=True)
class AreaPlan:
    area_id: str
    requested: int
    eligible: int
    selected: int

    @property
    def warning(self) -> str | None:
        if self.selected >= self.requested:
            return None
        if self.selected == 0:
            return f"Area {self.area_id}: no eligible case, so none is planned there."
        cases = "case" if self.eligible == 1 else "cases"
        return (
            f"Area {self.area_id}: only {self.eligible} eligible {cases} for the "
            f"{self.requested} asked, so {self.selected} planned."
        )


@dataclass(frozen=True)
class PlanResult:
    round_id: str
    focus_id: str
    seed: int
    areas: tuple[AreaPlan, ...]
    cases: int
    slots: int
    filled: int
    unfilled: int
    max_load: int
    timeline: Timeline

    @property
    def warnings(self) -> list[str]:
        return [w for a in self.areas if (w := a.warning) is not None]

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round_id,
            "focus": self.focus_id,
            "seed": self.seed,
            "areas": [
                {"area": a.area_id, "requested": a.requested}
                | {"eligible": a.eligible, "selected": a.selected}
                for a in self.areas
            ],
            "cases": self.cases,
            "slots": self.slots,
            "filled": self.filled,
            "unfilled": self.unfilled,
            "max_load": self.max_load,
            "warnings": self.warnings,
            "timeline": timeline_json(self.timeline),
        }


def plan_round(
    uow: UnitOfWork,
    *,
    period: str,
    focus_id: str,
    area_ids: Sequence[str] | None = None,
    cases_per_area: int | None = None,
    seed: int | None = None,
    launch_on: dt.date | None = None,
) -> PlanResult:
    """Create a planned round: select its cases, assign auditors, fix its timeline.

    1. Check the period, focus, areas, launch date and seed; one round per period.
    2. Mirror the configuration's areas, agencies and auditors into the database.
    3. Load the register's cases in the focus's categories for those areas.
    4. Draw the stratified sample; no eligible case anywhere is an error.
    5. Save the round and its cases, assign auditors, and record every step.
    """
    session, config, now = uow.session, uow.config, uow.now
    round_id = parse_period(period)
    focus = config.focus(focus_id)
    if area_ids is None:  # every area of the board
        area_ids = [a.id for a in config.board.areas]
    areas = list(dict.fromkeys(a.strip() for a in area_ids if a.strip()))
    if not areas:
        raise PlanningError("Name at least one area for the round (for example hackney).")
    for area_id in areas:
        config.area(area_id)
    existing = session.get(AuditRound, round_id)
    if existing is not None and existing.status != RoundStatus.CANCELLED:
        raise PlanningError(
            f"Round {round_id} is already planned (focus {existing.focus_id}, status "
            f"{existing.status}); there is one round per period (cancel it to plan it again)."
        )
    today = uow.today
    launch_on = _check_launch(launch_on, today, round_id)
    per_area = _cases_per_area(focus, areas, cases_per_area)
    if seed is None:
        seed = secrets.randbelow(MAX_SEED + 1)
    elif not 0 <= seed <= MAX_SEED:
        raise PlanningError(f"The seed must be a whole number from 0 to {MAX_SEED}.")

    sync_reference_data(uow)
    criteria = Criteria.from_config(config, focus)
    active_since = months_before(today, focus.lookback_months)
    candidates = load_candidates(
        session, area_ids=areas, categories=focus.categories, active_since=active_since
    )
    selection = select_cases(
        candidates, criteria, today=today, areas=areas, cases_per_area=per_area, seed=seed
    )
    if not selection.chosen:
        raise PlanningError(_none_eligible(uow, focus, areas, active_since, len(candidates)))

    timeline = round_timeline(launch_on, config.cadence)
    if existing is not None:  # the period's cancelled round: renamed, so the id is free
        move_aside(uow, existing)
    audit_round = AuditRound(
        id=round_id,
        focus_id=focus.id,
        areas=areas,
        status=RoundStatus.PLANNED,
        seed=seed,
        cases_requested=per_area,
        audit_tool_id=config.audit_tool.id,
        audit_tool_version=config.audit_tool.version,
        launch_on=timeline.launch_on,
        due_on=timeline.due_on,
        audit_day_on=timeline.audit_day_on,
        briefing_due_on=timeline.briefing_due_on,
        planned_at=now,
        planned_by=uow.actor,
    )
    session.add(audit_round)
    area_plans = tuple(
        AreaPlan(a.area_id, a.requested, a.eligible, len(a.chosen)) for a in selection.areas
    )
    uow.record(
        "round_planned",
        "audit_round",
        round_id,
        round_id=round_id,
        details={
            "focus": focus.id,
            "areas": areas,
            "seed": seed,
            "cases_per_area": per_area,
            "launch_on": launch_on.isoformat(),
            "eligible": {a.area_id: a.eligible for a in area_plans},
            "selected": {a.area_id: a.selected for a in area_plans},
        },
    )
    round_cases = []
    for chosen in selection.chosen:
        round_case = RoundCase(
            round_id=round_id,
            case_id=chosen.case.case_id,
            area_id=chosen.case.area_id,
            stratum=chosen.stratum,
            rationale=chosen.rationale,
            selected_at=now,
        )
        session.add(round_case)
        round_cases.append((round_case, chosen.case))
    session.flush()
    record_selected(uow, [(rc, case.reference) for rc, case in round_cases])
    outcome = assign_cases(uow, audit_round, round_cases)
    return PlanResult(
        round_id=round_id,
        focus_id=focus.id,
        seed=seed,
        areas=area_plans,
        cases=len(round_cases),
        slots=outcome.slots,
        filled=outcome.filled,
        unfilled=outcome.slots - outcome.filled,
        max_load=outcome.max_load,
        timeline=timeline,
    )


def _cases_per_area(focus: Focus, areas: Sequence[str], override: int | None) -> dict[str, int]:
    """How many cases to select in each area: the override, else the focus's number."""
    if override is not None:
        if override < 1:
            raise PlanningError("The number of cases per area must be at least 1.")
        return dict.fromkeys(areas, override)
    per_area = {}
    for area_id in areas:
        quota = focus.quota(area_id)
        if quota is None:
            raise PlanningError(
                f"The focus '{focus.name}' sets no number of cases for area '{area_id}': "
                "add it to cases_per_area in focuses.yaml, or give the number of cases.",
                missing="cases",
            )
        per_area[area_id] = quota
    return per_area


def _none_eligible(
    uow: UnitOfWork, focus: Focus, areas: list[str], active_since: dt.date, checked: int
) -> str:
    """Why nothing could be planned: the look-back window, and the register's newest activity."""
    newest = newest_activity(uow.session, area_ids=areas, categories=focus.categories)
    cases = "case" if checked == 1 else "cases"
    register = (
        f"the register's newest activity in these areas and categories is on {_long(newest)}"
        if newest is not None
        else "the register holds no case in these areas and categories"
    )
    return (
        f"No case in the register for {', '.join(areas)} is eligible for the focus "
        f"'{focus.name}' ({checked} {cases} in its categories with activity in its look-back "
        f"window were checked); nothing was planned. The focus looks back "
        f"{focus.lookback_months} month{'' if focus.lookback_months == 1 else 's'}, to "
        f"activity on or after {_long(active_since)}; "
        f"{register}."
    )


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _check_launch(launch_on: dt.date | None, today: dt.date, period: str) -> dt.date:
    """The launch date given, or the next working day (the period's first working day if it
    starts later); it must be a working day, not past, and in the round's period."""
    if launch_on is None:
        start = period_bounds(period)[0]
        launch_on = next_working_day(max(today, start - dt.timedelta(days=1)))
        check_in_period(period, launch_on, what="launch")
        return launch_on
    check_in_period(period, launch_on, what="launch")
    if launch_on < today:
        raise PlanningError(
            f"The launch date {launch_on:%d/%m/%Y} has passed; choose today or a later date."
        )
    reason = why_not_working(launch_on)
    if reason is not None:
        raise PlanningError(
            f"The launch date {launch_on:%d/%m/%Y} is {reason}, not a working day; "
            f"the next working day is {next_working_day(launch_on):%d/%m/%Y}."
        )
    return launch_on


def record_selected(uow: UnitOfWork, selected: Sequence[tuple[RoundCase, str]]) -> None:
    """One ``case_selected`` event per (round case, reference), in one statement."""
    if not selected:
        return
    uow.record_many(
        "case_selected",
        "round_case",
        round_id=selected[0][0].round_id,
        events=[
            (
                round_case.id,
                {
                    "case_id": round_case.case_id,
                    "case_ref": reference,
                    "area": round_case.area_id,
                    "stratum": round_case.stratum,
                    "rationale": round_case.rationale,
                },
            )
            for round_case, reference in selected
        ],
    )


@dataclass(frozen=True)
class _Outcome:
    slots: int
    filled: int
    max_load: int
    assigned: list[tuple[str, str | None]] = field(default_factory=list)  # (agency, auditor)


def assign_cases(
    uow: UnitOfWork,
    audit_round: AuditRound,
    round_cases: Sequence[tuple[RoundCase, Candidate | CaseFile]],
) -> _Outcome:
    """Assign auditors to every involved agency of these (newly added) round cases."""
    slots: list[Slot] = []
    where: dict[str, tuple[RoundCase, str, str]] = {}
    for round_case, case in round_cases:
        for involvement in case.involvements:
            key = f"{round_case.id}:{involvement.agency_id}"
            slots.append(
                Slot(
                    key=key,
                    area_id=round_case.area_id,
                    agency_id=involvement.agency_id,
                    practitioner_ids=frozenset(involvement.practitioner_ids or ()),
                )
            )
            where[key] = (round_case, involvement.agency_id, case.reference)
    session, now = uow.session, uow.now
    result = assign(slots, round_auditors(session, audit_round.id))
    outcome = _Outcome(len(slots), len(result.assigned), result.max_load)
    made = []
    for slot in slots:
        round_case, agency_id, reference = where[slot.key]
        auditor_id = result.assigned.get(slot.key)
        assignment = Assignment(
            round_case_id=round_case.id,
            agency_id=agency_id,
            auditor_id=auditor_id,
            status=AssignmentStatus.ASSIGNED if auditor_id else AssignmentStatus.UNFILLED,
            due_on=audit_round.due_on,
            updated_at=now,
        )
        session.add(assignment)
        made.append((slot, assignment))
    session.flush()  # one flush for all: the events below need the assignments' ids
    events: list[tuple[str, int, dict[str, Any]]] = []
    for slot, assignment in made:
        round_case, agency_id, reference = where[slot.key]
        auditor_id = assignment.auditor_id
        details: dict[str, Any] = {"case_ref": reference, "agency": agency_id}
        if auditor_id:
            details["auditor"] = auditor_id
        else:
            details["reason"] = result.unfilled[slot.key]
        events.append(
            ("auditor_assigned" if auditor_id else "slot_unfilled", assignment.id, details)
        )
        outcome.assigned.append((agency_id, auditor_id))
    for action, run in groupby(events, key=lambda event: event[0]):  # keeps the trail's order
        uow.record_many(
            action,
            "assignment",
            round_id=audit_round.id,
            events=[(object_id, details) for _, object_id, details in run],
        )
    return outcome
