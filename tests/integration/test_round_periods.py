"""A period must contain its launch date; an auditor's capacity holds across rounds whose
fieldwork overlaps, so two rounds planned side by side never overload one person."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_core.domain.errors import PlanningError
from audit_core.domain.models import Assignment, AuditRound, CaseFile, CaseInvolvement, RoundCase
from audit_core.domain.policy import Auditor as AuditorConfig
from audit_core.domain.policy import BoardConfig
from audit_core.services.planning import PlanResult, plan_round
from audit_core.services.reference import sync_reference_data
from audit_core.services.round_changes import reassign
from audit_core.services.round_view import show_round
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

AGENCIES = ("hackney-csc", "met-police", "gp")
ANN = AuditorConfig(
    id="hcs-ann",
    name="Ann Hcs",
    email="hcs-ann@example.org",
    agency="hackney-csc",
    areas=("hackney",),
    capacity=2,
)


@pytest.fixture
def work(make_uow: Callable[..., UnitOfWork], config: BoardConfig) -> UnitOfWork:
    """The business unit, on a board whose only auditor is Ann (capacity 2), with eight
    eligible Think Family cases in Hackney."""
    uow = dataclasses.replace(
        make_uow(actor="test"), config=config.model_copy(update={"auditors": (ANN,)})
    )
    sync_reference_data(uow)
    for n in range(8):
        case = CaseFile(
            area_id="hackney",
            reference=f"HK-{n}",
            category="child_protection",
            age_band=["0-4", "5-10", "11-15", "16-17"][n % 4],
            flags=["domestic_abuse"],
            last_activity_on=dt.date(2026, 1, 12),
            created_at=uow.now,
            updated_at=uow.now,
        )
        case.involvements = [CaseInvolvement(agency_id=a) for a in AGENCIES]
        uow.session.add(case)
    uow.session.flush()
    return uow


def plan(uow: UnitOfWork, period: str, launch_on: dt.date | None) -> PlanResult:
    return plan_round(
        uow,
        period=period,
        focus_id="think-family",
        area_ids=["hackney"],
        cases_per_area=2,
        seed=7,
        launch_on=launch_on,
    )


def anns_audits(session: Session, round_id: str) -> int:
    return len(
        session.scalars(
            select(Assignment.id)
            .join(RoundCase, RoundCase.id == Assignment.round_case_id)
            .where(RoundCase.round_id == round_id, Assignment.auditor_id == "hcs-ann")
        ).all()
    )


# --- periods -------------------------------------------------------------------------------


def test_planning_a_first_half_round_to_launch_in_december_is_refused_with_the_reason(
    work: UnitOfWork, session: Session
) -> None:
    with pytest.raises(PlanningError) as error:
        plan(work, "2026-H1", dt.date(2026, 12, 1))
    assert str(error.value) == (
        "Round 2026-H1 covers January to June 2026, so it cannot launch on 01/12/2026, "
        "which is in 2026-H2: a round launches within its period."
    )
    assert session.get(AuditRound, "2026-H1") is None


def test_a_round_for_a_later_period_launches_by_default_on_its_first_working_day(
    work: UnitOfWork,
) -> None:
    result = plan(work, "2026-H2", None)  # planned on 2 March
    assert result.timeline.launch_on == dt.date(2026, 7, 1)


def test_a_period_that_has_ended_cannot_be_planned(work: UnitOfWork) -> None:
    with pytest.raises(PlanningError, match="Round 2025-H2 covers July to December 2025"):
        plan(work, "2025-H2", None)


# --- capacity across rounds side by side -----------------------------------------------------


def test_two_rounds_planned_side_by_side_never_give_one_auditor_more_than_her_capacity(
    work: UnitOfWork, session: Session
) -> None:
    first = plan(work, "2026-H1", dt.date(2026, 6, 15))  # fieldwork 15 June to mid July
    second = plan(work, "2026-H2", dt.date(2026, 7, 1))  # starts before the first is due

    assert first.timeline.due_on > dt.date(2026, 7, 1)
    assert anns_audits(session, "2026-H1") == 2
    assert anns_audits(session, "2026-H2") == 0  # she is full: 2 of 2 across both
    view = show_round(work, "2026-H2")
    gap = next(u for u in view.unfilled if u.agency_id == "hackney-csc")
    assert gap.reason == (
        "every hackney-csc auditor covering hackney is at capacity "
        "(with the rounds that overlap this one)"
    )
    assert second.unfilled == second.slots


def test_a_reassignment_in_an_overlapping_round_counts_what_she_holds_in_the_other(
    work: UnitOfWork,
) -> None:
    plan(work, "2026-H1", dt.date(2026, 6, 15))
    plan(work, "2026-H2", dt.date(2026, 7, 1))
    case_ref = show_round(work, "2026-H2").cases[0].reference

    with pytest.raises(PlanningError, match=r"0 this round and 2 in overlapping rounds, of 2"):
        reassign(
            work,
            round_id="2026-H2",
            case_ref=case_ref,
            agency_id="hackney-csc",
            auditor_id="hcs-ann",
        )


def test_rounds_whose_fieldwork_does_not_overlap_each_have_her_full_capacity(
    work: UnitOfWork, session: Session
) -> None:
    plan(work, "2026-H1", dt.date(2026, 3, 3))  # due 31 March
    plan(work, "2026-H2", dt.date(2026, 7, 1))

    assert (anns_audits(session, "2026-H1"), anns_audits(session, "2026-H2")) == (2, 2)


def test_a_cancelled_round_does_not_hold_her_capacity(work: UnitOfWork, session: Session) -> None:
    plan(work, "2026-H1", dt.date(2026, 6, 15))
    first = session.get(AuditRound, "2026-H1")
    assert first is not None
    first.cancel("the inspection moved", work.now)

    plan(work, "2026-H2", dt.date(2026, 7, 1))

    assert anns_audits(session, "2026-H2") == 2
