"""Planning a round against a real database: selection, assignment, review and changes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support.trail import events

from audit_core.domain.errors import InvalidState, NotFound, PlanningError
from audit_core.domain.models import (
    Assignment,
    AssignmentStatus,
    AuditRound,
    CaseFile,
    CaseInvolvement,
    RoundCase,
    RoundStatus,
)
from audit_core.domain.policy import Auditor as AuditorConfig
from audit_core.domain.policy import BoardConfig
from audit_core.services.planning import PlanResult, plan_round
from audit_core.services.reference import sync_reference_data
from audit_core.services.round_changes import reassign, swap_case
from audit_core.services.round_view import show_round
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

ACTOR = "test:business-unit"
HACKNEY_AGENCIES = ("hackney-csc", "met-police", "gp")
CITY_AGENCIES = ("city-cft", "city-police", "gp")


def person(
    id: str,
    agency: str,
    areas: Sequence[str] = ("hackney",),
    capacity: int = 3,
    practitioner_ids: Sequence[str] = (),
    active: bool = True,
) -> AuditorConfig:
    return AuditorConfig(
        id=id,
        name=id.replace("-", " ").title(),
        email=f"{id}@example.org",
        agency=agency,
        areas=tuple(areas),
        capacity=capacity,
        practitioner_ids=tuple(practitioner_ids),
        active=active,
    )


def small_board(config: BoardConfig, *people: AuditorConfig) -> BoardConfig:
    """The example board with only the auditors a test needs."""
    people = people or (
        person("hcs-ann", "hackney-csc", practitioner_ids=["HCS-1"]),
        person("hcs-ben", "hackney-csc", practitioner_ids=["HCS-2"]),
        person("met-cat", "met-police", practitioner_ids=["MET-1"]),
        person("gp-dan", "gp", areas=["hackney", "city"], capacity=4, practitioner_ids=["GP-1"]),
        person("gp-eve", "gp", capacity=2, practitioner_ids=["GP-2"]),
        person("cft-fay", "city-cft", areas=["city"], practitioner_ids=["CFT-1"]),
        person("colp-gus", "city-police", areas=["city"]),
    )
    return config.model_copy(update={"auditors": tuple(people)})


Work = Callable[[BoardConfig], UnitOfWork]


class Register:
    """Adds pseudonymous cases to the register (after mirroring the board's reference data)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.session, self.now = uow.session, uow.now
        sync_reference_data(uow)

    def add(
        self,
        reference: str,
        *,
        area: str = "hackney",
        category: str = "child_protection",
        age_band: str = "11-15",
        flags: Sequence[str] = ("domestic_abuse",),
        agencies: dict[str, list[str]] | Sequence[str] | None = None,
        last_activity_on: dt.date = dt.date(2026, 1, 12),
        last_audited_on: dt.date | None = None,
    ) -> CaseFile:
        if agencies is None:
            agencies = HACKNEY_AGENCIES if area == "hackney" else CITY_AGENCIES
        if not isinstance(agencies, dict):
            agencies = {a: [] for a in agencies}
        case = CaseFile(
            area_id=area,
            reference=reference,
            category=category,
            age_band=age_band,
            flags=list(flags),
            last_activity_on=last_activity_on,
            last_audited_on=last_audited_on,
            created_at=self.now,
            updated_at=self.now,
        )
        case.involvements = [
            CaseInvolvement(agency_id=a, practitioner_ids=list(p)) for a, p in agencies.items()
        ]
        self.session.add(case)
        self.session.flush()
        return case


@pytest.fixture
def work(make_uow: Callable[..., UnitOfWork]) -> Work:
    """The business unit's unit of work over the test's session, with a given board."""

    def make(config: BoardConfig) -> UnitOfWork:
        return dataclasses.replace(make_uow(actor=ACTOR), config=config)

    return make


@pytest.fixture
def board(config: BoardConfig) -> BoardConfig:
    return small_board(config)


@pytest.fixture
def register(work: Work, board: BoardConfig) -> Register:
    return Register(work(board))


def plan(uow: UnitOfWork, **kw: Any) -> PlanResult:
    values: dict[str, Any] = {
        "period": "2026-H1",
        "focus_id": "think-family",
        "area_ids": ["hackney", "city"],
        "seed": 2026,
    }
    values.update(kw)
    return plan_round(uow, **values)


def set_status(session: Session, round_id: str, status: RoundStatus) -> None:
    """Move a round on, as launching or closing it would."""
    audit_round = session.get(AuditRound, round_id)
    assert audit_round is not None
    audit_round.status = status


def selected_refs(session: Session, round_id: str = "2026-H1") -> list[str]:
    return list(
        session.scalars(
            select(CaseFile.reference)
            .join(RoundCase, RoundCase.case_id == CaseFile.id)
            .where(RoundCase.round_id == round_id)
            .order_by(CaseFile.reference)
        )
    )


def assignments(session: Session) -> dict[tuple[str, str], str | None]:
    rows = session.execute(
        select(CaseFile.reference, Assignment.agency_id, Assignment.auditor_id)
        .join(RoundCase, RoundCase.id == Assignment.round_case_id)
        .join(CaseFile, CaseFile.id == RoundCase.case_id)
    )
    return {(ref, agency): auditor for ref, agency, auditor in rows}


# --- planning ------------------------------------------------------------------------------


def test_planning_selects_cases_assigns_auditors_and_fixes_the_timeline(
    session: Session, board: BoardConfig, register: Register, work: Work
) -> None:
    for n in range(3):
        register.add(f"HK-{n}", age_band=["0-4", "5-10", "11-15"][n])
        register.add(f"CL-{n}", area="city", category="child_in_need")
    result = plan(work(board), cases_per_area=2)

    audit_round = session.get(AuditRound, "2026-H1")
    assert audit_round is not None
    assert audit_round.status == RoundStatus.PLANNED
    assert (audit_round.focus_id, audit_round.areas, audit_round.seed) == (
        "think-family",
        ["hackney", "city"],
        2026,
    )
    assert audit_round.cases_requested == {"hackney": 2, "city": 2}
    assert audit_round.launch_on == dt.date(2026, 3, 3)  # the next working day
    assert audit_round.due_on == dt.date(2026, 3, 31)
    assert audit_round.audit_day_on == dt.date(2026, 4, 16)
    assert audit_round.briefing_due_on == dt.date(2026, 5, 15)
    assert len(selected_refs(session)) == 4
    for round_case in audit_round.cases:
        assert round_case.stratum in {
            "child_protection/0-4",
            "child_protection/5-10",
            "child_protection/11-15",
            "child_in_need/11-15",
        }
        assert "flags: domestic abuse; 3 agencies involved" in round_case.rationale
    assigned = assignments(session)
    assert len(assigned) == 12  # 4 cases x 3 agencies
    assert all(auditor is not None for auditor in assigned.values())
    assert {a.due_on for a in session.scalars(select(Assignment))} == {dt.date(2026, 3, 31)}
    assert (result.cases, result.slots, result.filled, result.unfilled) == (4, 12, 12, 0)
    assert result.warnings == []


def test_the_same_register_and_seed_give_the_same_selection(
    session: Session, board: BoardConfig, register: Register, work: Work
) -> None:
    for n in range(12):
        register.add(f"HK-{n:02d}", age_band=["0-4", "5-10", "11-15", "16-17"][n % 4])
    plan(work(board), area_ids=["hackney"], seed=99)
    first = selected_refs(session, "2026-H1")
    set_status(session, "2026-H1", RoundStatus.CLOSED)
    plan(work(board), period="2026-H2", area_ids=["hackney"], seed=99)
    assert selected_refs(session, "2026-H2") == first
    assert len(first) == 5  # the focus's cases_per_area


def test_without_a_seed_one_is_drawn_and_recorded(
    session: Session, board: BoardConfig, register: Register, work: Work
) -> None:
    register.add("HK-1")
    result = plan(work(board), area_ids=["hackney"], seed=None)
    audit_round = session.get(AuditRound, "2026-H1")
    assert audit_round is not None
    assert audit_round.seed == result.seed
    assert 0 <= audit_round.seed < 2**31


def test_no_auditor_is_given_a_case_they_work_on(
    session: Session, board: BoardConfig, register: Register, work: Work
) -> None:
    register.add(
        "HK-1",
        agencies={"hackney-csc": ["HCS-1", "HCS-9"], "met-police": [], "gp": ["GP-1"]},
    )
    plan(work(board), area_ids=["hackney"])
    assert assignments(session) == {
        ("HK-1", "hackney-csc"): "hcs-ben",
        ("HK-1", "met-police"): "met-cat",
        ("HK-1", "gp"): "gp-eve",
    }


def test_an_agency_without_an_eligible_auditor_is_left_unfilled(
    session: Session, board: BoardConfig, register: Register, work: Work
) -> None:
    register.add("HK-1", agencies=["hackney-csc", "met-police", "housing"])
    result = plan(work(board), area_ids=["hackney"])
    assert assignments(session)[("HK-1", "housing")] is None
    unfilled = session.scalars(
        select(Assignment).where(Assignment.status == AssignmentStatus.UNFILLED)
    ).all()
    assert [a.agency_id for a in unfilled] == ["housing"]
    assert result.unfilled == 1
    view = show_round(work(board), "2026-H1")
    assert [(u.case_ref, u.agency_id, u.reason) for u in view.unfilled] == [
        ("HK-1", "housing", "no active auditor of housing covers hackney")
    ]


def test_fewer_eligible_cases_than_asked_plans_what_there_is_and_says_so(
    session: Session, board: BoardConfig, register: Register, work: Work
) -> None:
    register.add("HK-1")
    register.add("HK-2")
    register.add("CL-1", area="city")
    result = plan(work(board), cases_per_area=3)
    assert selected_refs(session) == ["CL-1", "HK-1", "HK-2"]
    assert result.warnings == [
        "Area hackney: only 2 eligible cases for the 3 asked, so 2 planned.",
        "Area city: only 1 eligible case for the 3 asked, so 1 planned.",
    ]


def test_the_focus_can_ask_for_a_different_number_of_cases_in_each_area(
    session: Session, board: BoardConfig, register: Register, work: Work
) -> None:
    for n in range(6):
        register.add(f"HK-{n}", age_band=["0-4", "5-10", "11-15"][n % 3])
        register.add(f"CL-{n}", area="city", age_band=["0-4", "5-10", "11-15"][n % 3])
    assert board.focus("think-family").cases_per_area == {"hackney": 5, "city": 3}
    result = plan(work(board))
    assert {a.area_id: a.selected for a in result.areas} == {"hackney": 5, "city": 3}
    audit_round = session.get(AuditRound, "2026-H1")
    assert audit_round is not None and audit_round.cases_requested == {"hackney": 5, "city": 3}


def test_a_focus_without_a_number_for_an_area_is_a_clear_error(
    session: Session, board: BoardConfig, register: Register, work: Work
) -> None:
    register.add("HK-1")
    focus = board.focus("think-family").model_copy(update={"cases_per_area": {"hackney": 5}})
    narrow = board.model_copy(
        update={"focuses": tuple(focus if f.id == focus.id else f for f in board.focuses)}
    )
    with pytest.raises(PlanningError, match="sets no number of cases for area 'city'") as caught:
        plan(work(narrow))
    assert "or give the number of cases" in str(caught.value)
    assert caught.value.missing == "cases"  # the CLI adds "Use --cases N."
    plan(work(narrow), cases_per_area=1)  # a number of cases settles it for every area


def test_an_area_without_eligible_cases_is_named_in_a_warning(
    session: Session, board: BoardConfig, register: Register, work: Work
) -> None:
    register.add("HK-1")
    result = plan(work(board))
    assert "Area city: no eligible case, so none is planned there." in result.warnings


def test_no_eligible_case_at_all_is_a_clear_error_and_nothing_is_written(
    session: Session, board: BoardConfig, register: Register, work: Work
) -> None:
    register.add("HK-1", flags=["domestic_abuse", "in_court"])
    register.add("HK-2", category="looked_after")
    with pytest.raises(
        PlanningError, match="No case in the register for hackney, city is eligible"
    ):
        plan(work(board))
    assert session.scalar(select(func.count()).select_from(AuditRound)) == 0


def test_no_eligible_case_names_the_look_back_window_and_the_newest_activity(
    session: Session, board: BoardConfig, register: Register, work: Work
) -> None:
    register.add("HK-OLD", last_activity_on=dt.date(2024, 11, 20))
    register.add("CT-OLD", area="city", last_activity_on=dt.date(2025, 1, 5))
    register.add("HK-LAC", category="looked_after", last_activity_on=dt.date(2026, 2, 1))
    with pytest.raises(PlanningError) as refused:
        plan(work(board))  # think-family looks back 12 months from Monday 2 March 2026
    message = str(refused.value)
    assert "looks back 12 months, to activity on or after 2 March 2025" in message
    # the looked-after case is not in the focus's categories, so its date is not the newest
    assert "newest activity in these areas and categories is on 5 January 2025" in message


def test_an_empty_register_is_named_as_such_when_nothing_is_eligible(
    session: Session, board: BoardConfig, work: Work
) -> None:
    with pytest.raises(PlanningError, match="the register holds no case in these areas"):
        plan(work(board))


def test_each_eligibility_rule_is_applied_to_the_register(
    session: Session, board: BoardConfig, register: Register, work: Work
) -> None:
    register.add("OK")
    register.add("WRONG-CATEGORY", category="looked_after")
    register.add("NO-FOCUS-FLAG", flags=["neglect"])
    register.add("QUIET", last_activity_on=dt.date(2025, 3, 1))
    register.add("TWO-AGENCIES", agencies=["hackney-csc", "gp"])
    register.add("AUDITED", last_audited_on=dt.date(2025, 9, 1))
    register.add("LIVE-REVIEW", flags=["domestic_abuse", "live_review"])
    register.add("IN-COURT", flags=["parental_mental_health", "in_court"])
    plan(work(board), area_ids=["hackney"])
    assert selected_refs(session) == ["OK"]


def test_a_case_in_another_round_still_open_is_not_selected_again(
    session: Session, board: BoardConfig, register: Register, work: Work
) -> None:
    register.add("HK-1")
    register.add("HK-2")
    plan(work(board), area_ids=["hackney"], cases_per_area=1)
    first = selected_refs(session, "2026-H1")
    set_status(session, "2026-H1", RoundStatus.OPEN)
    plan(work(board), period="2026-H2", area_ids=["hackney"], cases_per_area=2)
    assert selected_refs(session, "2026-H2") == sorted({"HK-1", "HK-2"} - set(first))


def test_planning_leaves_an_audit_event_for_every_change(
    session: Session, board: BoardConfig, register: Register, work: Work
) -> None:
    register.add("HK-1", agencies=["hackney-csc", "met-police", "housing"])
    plan(work(board), area_ids=["hackney"])
    trail = [(e.action, e.object_type) for e in events(session, round_id="2026-H1")]
    assert trail == [
        ("round_planned", "audit_round"),
        ("case_selected", "round_case"),
        ("auditor_assigned", "assignment"),  # hackney-csc
        ("slot_unfilled", "assignment"),  # housing
        ("auditor_assigned", "assignment"),  # met-police
    ]
    planned = events(session, round_id="2026-H1")[0]
    assert planned.actor == ACTOR
    assert planned.details["seed"] == 2026
    assert planned.details["selected"] == {"hackney": 1}


@pytest.mark.parametrize(
    ("kw", "error", "message"),
    [
        ({"focus_id": "knife-crime"}, NotFound, "There is no focus 'knife-crime'"),
        ({"area_ids": ["hackney", "islington"]}, NotFound, "There is no area 'islington'"),
        ({"period": "2026-Q1"}, PlanningError, "'2026-Q1' is not a period"),
        ({"launch_on": dt.date(2026, 4, 3)}, PlanningError, "bank holiday (Good Friday)"),
        ({"launch_on": dt.date(2026, 2, 27)}, PlanningError, "has passed"),
        ({"seed": -1}, PlanningError, "The seed must be a whole number"),
    ],
)
def test_a_wrong_request_is_refused_with_a_clear_sentence(
    session: Session,
    board: BoardConfig,
    register: Register,
    work: Work,
    kw: dict[str, object],
    error: type[Exception],
    message: str,
) -> None:
    register.add("HK-1")
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan(work(board), **kw)


def test_a_period_already_planned_is_refused(
    session: Session, board: BoardConfig, register: Register, work: Work
) -> None:
    register.add("HK-1")
    plan(work(board), area_ids=["hackney"])
    with pytest.raises(PlanningError, match="Round 2026-H1 is already planned"):
        plan(work(board), period="2026-h1", area_ids=["hackney"])


# --- review ------------------------------------------------------------------------------


def test_the_review_shows_cases_assignments_loads_and_timeline(
    session: Session, board: BoardConfig, register: Register, work: Work
) -> None:
    register.add("HK-1")
    register.add("HK-2", age_band="0-4")
    plan(work(board), area_ids=["hackney"])
    view = show_round(work(board), "2026-H1")
    assert [c.reference for c in view.cases] == ["HK-2", "HK-1"]  # ordered by stratum
    assert view.cases[0].rationale.startswith("child protection, 0-4;")
    assert [a.agency_id for a in view.assignments] == ["gp"] * 2 + ["hackney-csc"] * 2 + [
        "met-police"
    ] * 2
    assert {(x.auditor_id, x.load) for x in view.loads} == {
        ("hcs-ann", 1),
        ("hcs-ben", 1),
        ("gp-dan", 1),
        ("gp-eve", 1),
        ("met-cat", 2),
    }
    assert view.unfilled == ()
    whats = [what for _day, what in view.timeline.events()]
    assert whats[0] == "launch: tasks sent to auditors"
    data = view.to_json()
    assert data["round"] == "2026-H1"
    assert data["timeline"][0] == {
        "date": "2026-03-03",
        "weekday": "Tuesday",
        "what": "launch: tasks sent to auditors",
    }


def test_showing_a_round_that_does_not_exist_is_refused(board: BoardConfig, work: Work) -> None:
    with pytest.raises(NotFound, match="There is no round 2026-H2"):
        show_round(work(board), "2026-H2")


# --- swapping a case ---------------------------------------------------------------------


@pytest.fixture
def planned(board: BoardConfig, register: Register, work: Work) -> None:
    for n in range(6):
        register.add(f"HK-{n}")  # one stratum: child_protection/11-15
    register.add("HK-OTHER", category="child_in_need", age_band="0-4")
    register.add("HK-QUIET", last_activity_on=dt.date(2024, 1, 1))
    plan(work(board), area_ids=["hackney"], cases_per_area=1, seed=7)


def test_swapping_a_case_draws_the_next_case_of_its_stratum(
    session: Session, board: BoardConfig, planned: None, work: Work
) -> None:
    [out] = selected_refs(session)
    result = swap_case(work(board), round_id="2026-H1", out_ref=out)
    [added] = selected_refs(session)
    assert added == result.added != out
    assert result.stratum == "child_protection/11-15"
    assert len(result.assigned) == 3 and all(auditor for _agency, auditor in result.assigned)
    assert {agency for (ref, agency) in assignments(session)} == set(HACKNEY_AGENCIES)
    # A case taken out is not drawn again, and the draws follow the seeded order.
    drawn = [out, added]
    for _ in range(4):
        drawn.append(swap_case(work(board), round_id="2026-H1", out_ref=drawn[-1]).added)
    assert sorted(drawn) == [f"HK-{n}" for n in range(6)]
    with pytest.raises(PlanningError, match="No other eligible case is left in stratum") as caught:
        swap_case(work(board), round_id="2026-H1", out_ref=drawn[-1])
    assert "name the case to put in instead" in str(caught.value)
    assert caught.value.missing == "replacement"  # the CLI adds "Use --in CASE."


def test_swapping_in_a_named_case_checks_it_against_every_rule(
    session: Session, board: BoardConfig, planned: None, work: Work
) -> None:
    [out] = selected_refs(session)
    with pytest.raises(PlanningError, match="Case HK-QUIET cannot join round 2026-H1: its last"):
        swap_case(work(board), round_id="2026-H1", out_ref=out, in_ref="HK-QUIET")
    with pytest.raises(NotFound, match="There is no case HK-NONE in area hackney"):
        swap_case(work(board), round_id="2026-H1", out_ref=out, in_ref="HK-NONE")
    with pytest.raises(NotFound, match="Case HK-NONE is not in round 2026-H1"):
        swap_case(work(board), round_id="2026-H1", out_ref="HK-NONE")
    result = swap_case(work(board), round_id="2026-H1", out_ref=out, in_ref="HK-OTHER")
    assert result.stratum == "child_in_need/0-4"
    assert selected_refs(session) == ["HK-OTHER"]
    trail = [e.action for e in events(session, round_id="2026-H1")]
    assert trail[-5:] == [
        "case_removed",
        "case_selected",
        "auditor_assigned",
        "auditor_assigned",
        "auditor_assigned",
    ]


# --- reassigning an auditor ----------------------------------------------------------------


def test_reassigning_refuses_an_auditor_who_breaks_a_rule_and_says_which(
    session: Session, config: BoardConfig, work: Work
) -> None:
    board = small_board(
        config,
        person("hcs-ann", "hackney-csc", capacity=1),
        person("hcs-ben", "hackney-csc", capacity=1, practitioner_ids=["HCS-2"]),
        person("hcs-old", "hackney-csc", active=False),
        person("cft-fay", "city-cft", areas=["city"]),
        person("met-cat", "met-police"),
        person("gp-dan", "gp"),
    )
    register = Register(work(board))
    register.add("HK-1", agencies={"hackney-csc": ["HCS-2"], "met-police": [], "gp": []})
    register.add("HK-2", age_band="0-4")
    plan(work(board), area_ids=["hackney"])
    assert assignments(session)[("HK-1", "hackney-csc")] == "hcs-ann"
    assert assignments(session)[("HK-2", "hackney-csc")] == "hcs-ben"

    def attempt(auditor: str) -> str:
        with pytest.raises((PlanningError, NotFound)) as caught:
            reassign(
                work(board),
                round_id="2026-H1",
                case_ref="HK-1",
                agency_id="hackney-csc",
                auditor_id=auditor,
            )
        return str(caught.value)

    assert attempt("hcs-ben").endswith(
        "the auditor is a practitioner on this case (conflict of interest)."
    )
    assert attempt("hcs-old").endswith("the auditor is no longer an active auditor.")
    assert attempt("met-cat").endswith("the auditor belongs to met-police, not hackney-csc.")
    assert attempt("nobody") == "There is no auditor 'nobody' in the configuration."

    with pytest.raises(PlanningError, match=r"has no capacity left this round \(1 of 1 taken\)"):
        reassign(
            work(board),
            round_id="2026-H1",
            case_ref="HK-2",
            agency_id="hackney-csc",
            auditor_id="hcs-ann",
        )
    for case_ref, auditor_id in (("HK-1", None), ("HK-2", "hcs-ann")):
        reassign(
            work(board),
            round_id="2026-H1",
            case_ref=case_ref,
            agency_id="hackney-csc",
            auditor_id=auditor_id,
        )
    assert assignments(session)[("HK-2", "hackney-csc")] == "hcs-ann"


def test_reassigning_and_clearing_are_recorded(
    session: Session, board: BoardConfig, register: Register, work: Work
) -> None:
    register.add("HK-1")
    plan(work(board), area_ids=["hackney"])
    before = assignments(session)[("HK-1", "hackney-csc")]
    other = "hcs-ben" if before == "hcs-ann" else "hcs-ann"
    reassign(
        work(board),
        round_id="2026-H1",
        case_ref="HK-1",
        agency_id="hackney-csc",
        auditor_id=other,
    )
    reassign(
        work(board),
        round_id="2026-H1",
        case_ref="HK-1",
        agency_id="hackney-csc",
        auditor_id=None,
    )
    assignment = session.scalars(
        select(Assignment).where(Assignment.agency_id == "hackney-csc")
    ).one()
    assert (assignment.auditor_id, assignment.status) == (None, AssignmentStatus.UNFILLED)
    trail = events(session, object_type="assignment", round_id="2026-H1")[-2:]
    assert [(e.action, e.details["from"], e.details["to"]) for e in trail] == [
        ("auditor_reassigned", before, other),
        ("auditor_cleared", other, None),
    ]
    with pytest.raises(NotFound, match="Agency housing is not involved in case HK-1"):
        reassign(
            work(board),
            round_id="2026-H1",
            case_ref="HK-1",
            agency_id="housing",
            auditor_id=None,
        )


def test_a_round_no_longer_in_planning_cannot_be_changed(
    session: Session, board: BoardConfig, register: Register, work: Work
) -> None:
    register.add("HK-1")
    register.add("HK-2")
    plan(work(board), area_ids=["hackney"], cases_per_area=1)
    [ref] = selected_refs(session)
    set_status(session, "2026-H1", RoundStatus.OPEN)
    with pytest.raises(InvalidState, match="Round 2026-H1 is open, no longer in planning"):
        swap_case(work(board), round_id="2026-H1", out_ref=ref)
    # an open round's auditors change through a hand-over (tests/integration/test_fieldwork.py)
    with pytest.raises(InvalidState, match="cannot be left without an auditor"):
        reassign(work(board), round_id="2026-H1", case_ref=ref, agency_id="gp", auditor_id=None)
    set_status(session, "2026-H1", RoundStatus.MODERATION)
    with pytest.raises(InvalidState, match="Round 2026-H1 is moderation, no longer in planning"):
        reassign(
            work(board),
            round_id="2026-H1",
            case_ref=ref,
            agency_id="gp",
            auditor_id=None,
        )


def test_the_review_keeps_the_dates_the_round_was_planned_with(
    session: Session, board: BoardConfig, register: Register, work: Work
) -> None:
    register.add("HK-1")
    plan(work(board), area_ids=["hackney"], launch_on=dt.date(2026, 3, 9))
    slower = board.model_copy(
        update={"cadence": board.cadence.model_copy(update={"returns_due": 30})}
    )
    timeline = show_round(work(slower), "2026-H1").timeline
    assert (timeline.launch_on, timeline.due_on) == (dt.date(2026, 3, 9), dt.date(2026, 4, 8))
    assert timeline.reminders[-1].on == dt.date(2026, 4, 8)  # not 22/04, as 30 days would give
