"""Which cases are eligible for a focus, and how the stratified sample is drawn."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from audit_core.domain.policy import BoardConfig
from audit_core.domain.selection import (
    Candidate,
    Criteria,
    Involvement,
    allocate,
    months_before,
    rationale,
    select_cases,
    why_ineligible,
)

TODAY = dt.date(2026, 3, 2)


def criteria(**overrides: Any) -> Criteria:
    values: dict[str, Any] = {
        "focus_id": "think-family",
        "categories": frozenset({"early_help", "child_in_need", "child_protection"}),
        "flags_any": frozenset({"parental_mental_health", "domestic_abuse"}),
        "lookback_months": 12,
        "min_agencies": 2,
        "exclusion_months": 12,
        "excluding_flags": frozenset({"live_review", "in_court"}),
        "category_names": {"child_protection": "Child protection", "early_help": "Early help"},
        "flag_names": {"domestic_abuse": "Domestic abuse"},
    }
    values.update(overrides)
    return Criteria(**values)


_ids = iter(range(1, 10**9))


def case(**overrides: Any) -> Candidate:
    """An eligible Think Family case unless told otherwise."""
    n = next(_ids)
    values: dict[str, Any] = {
        "case_id": n,
        "reference": f"HK-{n:06d}",
        "area_id": "hackney",
        "category": "child_protection",
        "age_band": "11-15",
        "flags": frozenset({"domestic_abuse"}),
        "last_activity_on": dt.date(2026, 1, 12),
        "last_audited_on": None,
        "involvements": (
            Involvement("hackney-csc"),
            Involvement("met-police"),
            Involvement("gp"),
            Involvement("camhs"),
        ),
    }
    values.update(overrides)
    return Candidate(**values)


def test_a_case_meeting_every_rule_is_eligible() -> None:
    assert why_ineligible(case(), criteria(), TODAY) is None


def test_a_case_outside_the_focus_categories_is_not_eligible() -> None:
    reason = why_ineligible(case(category="looked_after"), criteria(), TODAY)
    assert reason is not None and "category" in reason


def test_a_case_without_any_of_the_focus_flags_is_not_eligible() -> None:
    reason = why_ineligible(case(flags=frozenset({"neglect"})), criteria(), TODAY)
    assert reason is not None and "none of the focus's flags" in reason


def test_a_focus_without_flags_takes_cases_with_any_flags() -> None:
    assert why_ineligible(case(flags=frozenset()), criteria(flags_any=frozenset()), TODAY) is None


def test_activity_must_fall_within_the_look_back_window_in_calendar_months() -> None:
    assert why_ineligible(case(last_activity_on=dt.date(2025, 3, 2)), criteria(), TODAY) is None
    reason = why_ineligible(case(last_activity_on=dt.date(2025, 3, 1)), criteria(), TODAY)
    assert reason is not None and "look-back window (from 02/03/2025)" in reason


def test_fewer_agencies_than_the_minimum_is_not_eligible() -> None:
    one_agency_twice = (Involvement("gp", frozenset({"GP-1"})), Involvement("gp"))
    reason = why_ineligible(case(involvements=one_agency_twice), criteria(), TODAY)
    assert reason == "only 1 agency is involved (at least 2 needed)"
    two = (Involvement("gp"), Involvement("camhs"))
    assert why_ineligible(case(involvements=two), criteria(), TODAY) is None


def test_a_case_audited_within_the_exclusion_period_is_not_eligible() -> None:
    reason = why_ineligible(case(last_audited_on=dt.date(2025, 4, 1)), criteria(), TODAY)
    assert reason is not None and "audited on 01/04/2025" in reason
    assert why_ineligible(case(last_audited_on=dt.date(2025, 3, 1)), criteria(), TODAY) is None


def test_a_case_under_live_review_or_in_court_is_never_eligible() -> None:
    for flag in ("live_review", "in_court"):
        flags = frozenset({"domestic_abuse", flag})
        reason = why_ineligible(case(flags=flags), criteria(), TODAY)
        assert reason is not None and reason.startswith("it is flagged")


def test_a_case_in_another_round_that_has_not_closed_is_not_eligible() -> None:
    reason = why_ineligible(case(in_round="2025-H2"), criteria(), TODAY)
    assert reason == "it is already in round 2025-H2"


def test_the_rationale_says_why_the_case_qualifies() -> None:
    text = rationale(case(), criteria())
    assert text == (
        "child protection, 11-15; flags: domestic abuse; 4 agencies involved; "
        "last activity 12/01/2026; never audited"
    )
    audited = rationale(case(last_audited_on=dt.date(2024, 6, 3)), criteria())
    assert audited.endswith("last audited 03/06/2024")


def test_months_are_calendar_months() -> None:
    assert months_before(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert months_before(dt.date(2024, 3, 31), 1) == dt.date(2024, 2, 29)
    assert months_before(dt.date(2026, 1, 15), 12) == dt.date(2025, 1, 15)


def register(rng: random.Random, size: int = 120) -> list[Candidate]:
    cases = []
    for _ in range(size):
        cases.append(
            case(
                area_id=rng.choice(["hackney", "city"]),
                category=rng.choice(["early_help", "child_in_need", "child_protection"]),
                age_band=rng.choice(["0-4", "5-10", "11-15", "16-17"]),
            )
        )
    return cases


def test_the_same_register_and_seed_give_the_same_selection_in_any_row_order() -> None:
    cases = register(random.Random(1))
    shuffled = list(cases)
    random.Random(2).shuffle(shuffled)
    first = select_cases(
        cases, criteria(), today=TODAY, areas=["hackney", "city"], cases_per_area=6, seed=42
    )
    second = select_cases(
        shuffled, criteria(), today=TODAY, areas=["hackney", "city"], cases_per_area=6, seed=42
    )
    assert [s.case.reference for s in first.chosen] == [s.case.reference for s in second.chosen]
    other = select_cases(
        cases, criteria(), today=TODAY, areas=["hackney", "city"], cases_per_area=6, seed=43
    )
    assert [s.case.reference for s in other.chosen] != [s.case.reference for s in first.chosen]


def test_each_selected_case_records_its_stratum_and_rationale() -> None:
    selection = select_cases(
        register(random.Random(3)),
        criteria(),
        today=TODAY,
        areas=["hackney"],
        cases_per_area=4,
        seed=7,
    )
    assert len(selection.chosen) == 4
    for chosen in selection.chosen:
        assert chosen.stratum == f"{chosen.case.category}/{chosen.case.age_band}"
        assert chosen.rationale == rationale(chosen.case, criteria())
        assert chosen.case.area_id == "hackney"


def test_a_small_quota_is_spread_across_categories_before_age_bands() -> None:
    cases = [
        case(category="child_protection", age_band=band)
        for band in ("0-4", "5-10")
        for _ in range(10)
    ]
    cases += [case(category="early_help"), case(category="child_in_need")]
    selection = select_cases(
        cases, criteria(), today=TODAY, areas=["hackney"], cases_per_area=3, seed=5
    )
    assert Counter(s.case.category for s in selection.chosen) == {
        "child_protection": 1,
        "early_help": 1,
        "child_in_need": 1,
    }


def test_a_category_share_is_spread_across_its_age_bands() -> None:
    cases = [
        case(category="child_protection", age_band=band)
        for band in ("0-4", "5-10", "11-15", "16-17")
        for _ in range(5)
    ]
    selection = select_cases(
        cases, criteria(), today=TODAY, areas=["hackney"], cases_per_area=4, seed=9
    )
    assert sorted(s.case.age_band for s in selection.chosen) == ["0-4", "11-15", "16-17", "5-10"]


def test_fewer_eligible_cases_than_asked_selects_them_all_and_says_so() -> None:
    cases = [case(area_id="city"), case(area_id="city"), case(area_id="city", category="x")]
    selection = select_cases(
        cases, criteria(), today=TODAY, areas=["hackney", "city"], cases_per_area=4, seed=1
    )
    by_area = {a.area_id: a for a in selection.areas}
    assert by_area["city"].eligible == 2
    assert len(by_area["city"].chosen) == 2
    assert by_area["city"].shortfall == 2
    assert by_area["hackney"].chosen == ()
    assert by_area["hackney"].shortfall == 4


def test_labels_come_from_the_configuration(config: BoardConfig) -> None:
    focus = config.focus("think-family")
    text = rationale(case(), Criteria.from_config(config, focus))
    assert text.startswith("child protection, 11-15; flags: domestic abuse;")


def test_allocation_gives_one_to_each_group_while_the_quota_allows() -> None:
    rng = random.Random(0)
    assert allocate(5, {"a": 10, "b": 1, "c": 1}, rng) == {"a": 3, "b": 1, "c": 1}
    assert allocate(2, {"a": 10, "b": 1, "c": 5}, rng) == {"a": 1, "b": 0, "c": 1}


@given(
    quota=st.integers(min_value=0, max_value=40),
    sizes=st.dictionaries(st.sampled_from("abcdefgh"), st.integers(1, 12), min_size=1),
    seed=st.integers(0, 1000),
)
def test_allocation_never_exceeds_a_group_and_uses_all_it_can(
    quota: int, sizes: dict[str, int], seed: int
) -> None:
    shares = allocate(quota, sizes, random.Random(seed))
    assert sum(shares.values()) == min(quota, sum(sizes.values()))
    assert all(0 <= shares[k] <= sizes[k] for k in sizes)
    if quota >= len(sizes):
        assert all(shares[k] >= 1 for k in sizes)
    assert shares == allocate(quota, dict(reversed(list(sizes.items()))), random.Random(seed))
