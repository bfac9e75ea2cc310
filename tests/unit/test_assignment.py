"""Auditors are matched to slots by the rules, as fully and as evenly as possible."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from audit_core.domain.assignment import (
    AssignmentResult,
    Auditor,
    Slot,
    assign,
    unfilled_reason,
    why_not_eligible,
)
from audit_core.domain.selection import Candidate, Criteria, Involvement, select_cases


def auditor(id: str, agency: str = "gp", areas: str = "hackney", **kw: object) -> Auditor:
    values: dict[str, object] = {"capacity": 3, "practitioner_ids": frozenset(), "held": 0}
    values.update(kw)
    return Auditor(id=id, agency_id=agency, areas=frozenset(areas.split(",")), **values)  # type: ignore[arg-type]


def slot(key: str, agency: str = "gp", area: str = "hackney", practitioners: str = "") -> Slot:
    return Slot(
        key=key,
        area_id=area,
        agency_id=agency,
        practitioner_ids=frozenset(p for p in practitioners.split(",") if p),
    )


def test_an_auditor_is_never_given_a_case_they_work_on() -> None:
    result = assign(
        [slot("HK-1:gp", practitioners="GP-7")],
        [auditor("alice", practitioner_ids=frozenset({"GP-7"})), auditor("bob")],
    )
    assert result.assigned == {"HK-1:gp": "bob"}


def test_only_an_auditor_of_the_agency_who_covers_the_area_is_chosen() -> None:
    auditors = [
        auditor("alice", agency="camhs"),
        auditor("bob", areas="city"),
        auditor("charlie", active=False),
        auditor("dora", areas="city,hackney"),
    ]
    assert assign([slot("s")], auditors).assigned == {"s": "dora"}


def test_each_rule_that_stops_an_auditor_is_named() -> None:
    s = slot("s", practitioners="GP-1")
    assert why_not_eligible(s, auditor("a", active=False)) == "is no longer an active auditor"
    assert why_not_eligible(s, auditor("a", agency="camhs")) == "belongs to camhs, not gp"
    assert why_not_eligible(s, auditor("a", areas="city")) == "does not cover the area hackney"
    conflicted = auditor("a", practitioner_ids=frozenset({"GP-1"}))
    assert why_not_eligible(s, conflicted) == (
        "is a practitioner on this case (conflict of interest)"
    )
    full = auditor("a", capacity=2, held=2)
    assert why_not_eligible(s, full) == "has no capacity left this round (2 of 2 taken)"
    assert why_not_eligible(s, auditor("a")) is None


def test_a_slot_nobody_can_take_is_reported_unfilled_with_the_reason() -> None:
    result = assign(
        [
            slot("nobody", agency="housing"),
            slot("conflict", practitioners="GP-1"),
            slot("full", area="city"),
        ],
        [
            auditor("alice", practitioner_ids=frozenset({"GP-1"})),
            auditor("bob", areas="city", capacity=1, held=1),
        ],
    )
    assert result.assigned == {}
    assert result.unfilled == {
        "nobody": "no active auditor of housing covers hackney",
        "conflict": "every gp auditor covering hackney works on this case",
        "full": "every gp auditor covering city is at capacity",
    }


def test_a_choice_that_would_strand_another_slot_is_avoided() -> None:
    # Alice could take either slot, Bob only the first: both are filled only if Bob takes it.
    result = assign(
        [slot("a1"), slot("a2", practitioners="GP-B")],
        [
            auditor("alice", capacity=1),
            auditor("bob", capacity=1, practitioner_ids=frozenset({"GP-B"})),
        ],
    )
    assert result.assigned == {"a1": "bob", "a2": "alice"}
    assert result.unfilled == {}


def test_the_load_is_shared_evenly() -> None:
    slots = [slot(f"s{n}") for n in range(6)]
    result = assign(slots, [auditor("alice", capacity=6), auditor("bob", capacity=6)])
    assert result.loads == {"alice": 3, "bob": 3}


def test_cases_already_held_in_the_round_count_towards_the_load() -> None:
    slots = [slot(f"s{n}") for n in range(5)]
    result = assign(slots, [auditor("alice", held=3, capacity=6), auditor("bob", capacity=6)])
    assert result.loads == {"alice": 4, "bob": 4}
    assert list(result.assigned.values()).count("alice") == 1


def test_no_more_cases_than_capacity_even_if_slots_stay_unfilled() -> None:
    slots = [slot(f"s{n}") for n in range(4)]
    result = assign(slots, [auditor("alice", capacity=1), auditor("bob", capacity=2)])
    assert len(result.assigned) == 3
    assert result.loads == {"alice": 1, "bob": 2}
    assert list(result.unfilled.values()) == [
        "every gp auditor who could take it (covering hackney, no conflict) "
        "is needed for other cases"
    ]


def test_a_gap_left_by_a_cleared_auditor_names_who_could_take_it() -> None:
    reason = unfilled_reason(slot("s"), [auditor("alice"), auditor("bob", capacity=1, held=1)])
    assert reason == "no auditor chosen yet (alice could take it)"


# --- optimality against brute force, and properties over random instances -------------


def objective(result: AssignmentResult, auditors: list[Auditor]) -> tuple[int, int, int]:
    """(slots left unfilled, largest load, sum of squared loads): smaller is better."""
    loads = {a.id: a.held for a in auditors}
    for auditor_id in result.assigned.values():
        loads[auditor_id] += 1
    return (
        len(result.unfilled),
        max(loads.values(), default=0),
        sum(v * v for v in loads.values()),
    )


def brute_force(slots: list[Slot], auditors: list[Auditor]) -> tuple[int, int, int]:
    choices = [[a.id for a in auditors if why_not_eligible(s, a) is None] + [None] for s in slots]
    by_id = {a.id: a for a in auditors}
    best = None
    for combination in itertools.product(*choices):
        new = {a.id: 0 for a in auditors}
        for auditor_id in combination:
            if auditor_id is not None:
                new[auditor_id] += 1
        if any(new[a] > by_id[a].capacity_left for a in new):
            continue
        loads = [by_id[a].held + new[a] for a in new]
        score = (
            sum(1 for c in combination if c is None),
            max(loads, default=0),
            sum(v * v for v in loads),
        )
        if best is None or score < best:
            best = score
    assert best is not None
    return best


def random_instance(rng: random.Random) -> tuple[list[Slot], list[Auditor]]:
    agencies, areas, people = ["gp", "camhs"], ["hackney", "city"], ["P1", "P2", "P3"]
    auditors = [
        Auditor(
            id=f"a{n}",
            agency_id=rng.choice(agencies),
            areas=frozenset(rng.sample(areas, rng.randint(1, 2))),
            capacity=rng.randint(0, 4),
            held=rng.randint(0, 2),
            practitioner_ids=frozenset(rng.sample(people, rng.randint(0, 1))),
            active=rng.random() > 0.1,
        )
        for n in range(rng.randint(1, 4))
    ]
    slots = [
        Slot(
            key=f"s{n}",
            area_id=rng.choice(areas),
            agency_id=rng.choice(agencies),
            practitioner_ids=frozenset(rng.sample(people, rng.randint(0, 2))),
        )
        for n in range(rng.randint(0, 7))
    ]
    return slots, auditors


def test_the_assignment_is_optimal_on_small_instances_checked_by_brute_force() -> None:
    rng = random.Random(20260302)
    for _ in range(300):
        slots, auditors = random_instance(rng)
        result = assign(slots, auditors)
        assert objective(result, auditors) == brute_force(slots, auditors), (slots, auditors)


def largest_matching(slots: list[Slot], auditors: list[Auditor]) -> int:
    """An independent count of the slots that can be filled (Hopcroft-Karp on seat copies)."""
    graph = nx.Graph()
    left = [("slot", s.key) for s in slots]
    graph.add_nodes_from(left)
    for s in slots:
        for a in auditors:
            if why_not_eligible(s, a) is None:
                for seat in range(a.capacity_left):
                    graph.add_edge(("slot", s.key), ("seat", a.id, seat))
    matching = nx.bipartite.hopcroft_karp_matching(graph, top_nodes=left)
    return sum(1 for node in left if node in matching)


_TODAY = dt.date(2026, 3, 2)
_AGENCIES = ("hackney-csc", "gp", "camhs", "met-police")


@st.composite
def registers(draw: st.DrawFn) -> tuple[list[Candidate], list[Auditor], int]:
    practitioner = st.sampled_from([f"P{n}" for n in range(6)])
    cases = []
    for n in range(draw(st.integers(0, 25))):
        agencies = draw(st.lists(st.sampled_from(_AGENCIES), min_size=1, max_size=4, unique=True))
        cases.append(
            Candidate(
                case_id=n,
                reference=f"R{n:03d}",
                area_id=draw(st.sampled_from(["hackney", "city"])),
                category=draw(st.sampled_from(["child_in_need", "child_protection"])),
                age_band=draw(st.sampled_from(["0-4", "5-10"])),
                flags=frozenset(),
                last_activity_on=_TODAY,
                last_audited_on=None,
                involvements=tuple(
                    Involvement(a, frozenset(draw(st.lists(practitioner, max_size=2))))
                    for a in sorted(agencies)
                ),
            )
        )
    auditors = [
        Auditor(
            id=f"aud{n}",
            agency_id=draw(st.sampled_from(_AGENCIES)),
            areas=frozenset(draw(st.lists(st.sampled_from(["hackney", "city"]), min_size=1))),
            capacity=draw(st.integers(0, 3)),
            practitioner_ids=frozenset(draw(st.lists(practitioner, max_size=2))),
            active=draw(st.booleans()),
        )
        for n in range(draw(st.integers(0, 10)))
    ]
    return cases, auditors, draw(st.integers(0, 10_000))


@settings(max_examples=150, deadline=None)
@given(registers())
def test_over_random_registers_no_conflict_no_capacity_exceeded_and_every_fillable_slot_filled(
    drawn: tuple[list[Candidate], list[Auditor], int],
) -> None:
    cases, auditors, seed = drawn
    criteria = Criteria(
        focus_id="f",
        categories=frozenset({"child_in_need", "child_protection"}),
        flags_any=frozenset(),
        lookback_months=12,
        min_agencies=1,
        exclusion_months=12,
        excluding_flags=frozenset(),
    )
    selection = select_cases(
        cases, criteria, today=_TODAY, areas=["hackney", "city"], cases_per_area=4, seed=seed
    )
    slots = [
        Slot(f"{c.case.case_id}:{i.agency_id}", c.case.area_id, i.agency_id, i.practitioner_ids)
        for c in selection.chosen
        for i in c.case.involvements
    ]
    result = assign(slots, auditors)
    by_id = {a.id: a for a in auditors}
    by_key = {s.key: s for s in slots}
    for key, auditor_id in result.assigned.items():
        taker = by_id[auditor_id]
        assert not (taker.practitioner_ids & by_key[key].practitioner_ids)
        assert taker.agency_id == by_key[key].agency_id
        assert by_key[key].area_id in taker.areas
        assert taker.active
    for auditor_id, load in result.loads.items():
        assert load <= by_id[auditor_id].capacity
    assert set(result.assigned) | set(result.unfilled) == set(by_key)
    assert len(result.assigned) == largest_matching(slots, auditors)
