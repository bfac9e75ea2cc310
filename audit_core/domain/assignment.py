"""Matching auditors to the slots of a round: one auditor per selected case and agency.

A *slot* is one agency's audit of one selected case. An auditor can take a slot
when they are active, belong to the slot's agency, cover the case's area, have
capacity left in the round, and are not a practitioner on the case for that
agency (:func:`why_not_eligible` gives the first rule that fails, in words).

:func:`assign` solves the matching as network flows, so a valid assignment is
always found when one exists (no greedy choice can paint it into a corner):

1. List each slot's eligible auditors. A slot with none is unfilled, with the reason.
2. Split the rest into independent components (slots and auditors linked by
   eligibility); each is solved on its own, which keeps large rounds fast.
3. Per component, a maximum flow (source -> slot -> auditor -> sink, auditor
   edges holding their capacity left) gives the most slots that can be filled.
4. Per component, search the smallest load cap ``L`` (a binary search from the
   counting bound) under which a maximum flow still fills that many slots. The
   round's cap is the largest of these: the smallest possible largest load.
5. Per component, a minimum-cost flow of that size under the round's cap, where
   an auditor's k-th case in the round costs ``2k - 1``: the total cost is the
   sum of the squared loads, so the cheapest flow spreads the work most evenly.

Loads count the cases an auditor already holds in this round (``held``), so
re-running the matching for a swapped-in case keeps the whole round balanced.
Capacity also counts what they hold in other rounds whose fieldwork overlaps
(``held_elsewhere``), so two rounds side by side never overload one person.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import networkx as nx

Options = dict[str, list[str]]  # slot key -> the ids of the auditors who can take it


@dataclass(frozen=True)
class Slot:
    key: str  # unique among the slots passed to :func:`assign`
    area_id: str
    agency_id: str
    practitioner_ids: frozenset[str] = frozenset()  # the agency's practitioners on the case


@dataclass(frozen=True)
class Auditor:
    id: str
    agency_id: str
    areas: frozenset[str]
    capacity: int  # cases at a time: across rounds whose fieldwork overlaps
    held: int = 0  # cases already held in this round
    practitioner_ids: frozenset[str] = frozenset()
    active: bool = True
    held_elsewhere: int = 0  # cases held in other rounds whose fieldwork overlaps this one

    @property
    def capacity_left(self) -> int:
        return max(0, self.capacity - self.held - self.held_elsewhere)


def _covers(slot: Slot, auditor: Auditor) -> bool:
    """An active auditor of the slot's agency who covers its area."""
    return auditor.active and auditor.agency_id == slot.agency_id and slot.area_id in auditor.areas


def _conflicted(slot: Slot, auditor: Auditor) -> bool:
    """A practitioner on the case: they may not audit their own work."""
    return bool(auditor.practitioner_ids & slot.practitioner_ids)


def why_not_eligible(slot: Slot, auditor: Auditor) -> str | None:
    """The first rule that stops ``auditor`` taking ``slot``, as a phrase; None if they can."""
    if not _covers(slot, auditor):
        if not auditor.active:
            return "is no longer an active auditor"
        if auditor.agency_id != slot.agency_id:
            return f"belongs to {auditor.agency_id}, not {slot.agency_id}"
        return f"does not cover the area {slot.area_id}"
    if _conflicted(slot, auditor):
        return "is a practitioner on this case (conflict of interest)"
    if auditor.capacity_left <= 0:
        if auditor.held_elsewhere:
            return (
                f"has no capacity left ({auditor.held} this round and {auditor.held_elsewhere} "
                f"in overlapping rounds, of {auditor.capacity})"
            )
        return f"has no capacity left this round ({auditor.held} of {auditor.capacity} taken)"
    return None


@dataclass
class AssignmentResult:
    assigned: dict[str, str] = field(default_factory=dict)  # slot key -> auditor id
    unfilled: dict[str, str] = field(default_factory=dict)  # slot key -> why
    loads: dict[str, int] = field(default_factory=dict)  # auditor id -> cases held in the round
    counting_bound: int = 0  # max over components of ceil(total load / auditors)

    @property
    def max_load(self) -> int:
        return max(self.loads.values(), default=0)


def assign(slots: Sequence[Slot], auditors: Sequence[Auditor]) -> AssignmentResult:
    """Fill as many slots as possible, then minimise the largest load, then the spread."""
    result = AssignmentResult()
    by_id = {a.id: a for a in auditors}
    by_key = {s.key: s for s in slots}
    result.loads = {a.id: a.held for a in auditors if a.held}

    # Step 1: eligible auditors per slot (looked for among those of its agency and area).
    pool: dict[tuple[str, str], list[Auditor]] = defaultdict(list)
    for auditor in sorted(auditors, key=lambda a: a.id):
        for area in auditor.areas:
            pool[(auditor.agency_id, area)].append(auditor)
    options: Options = {}
    for slot in sorted(slots, key=lambda s: s.key):
        eligible = [
            a.id
            for a in pool.get((slot.agency_id, slot.area_id), [])
            if why_not_eligible(slot, a) is None
        ]
        if eligible:
            options[slot.key] = eligible
        else:
            result.unfilled[slot.key] = unfilled_reason(slot, auditors)

    # Step 2: independent components.
    components = _components(options)

    # Steps 3 and 4: the most slots each component can fill, and its smallest load cap.
    solved = []
    cap = 0
    for slot_keys in components:
        component_options = {k: options[k] for k in slot_keys}
        members = sorted({a for ids in component_options.values() for a in ids})
        fillable = _max_flow(component_options, by_id, members, load_cap=None)
        least = _smallest_cap(component_options, by_id, members, fillable)
        result.counting_bound = max(
            result.counting_bound,
            math.ceil((fillable + sum(by_id[a].held for a in members)) / len(members)),
        )
        cap = max(cap, least)
        solved.append((component_options, members, fillable))

    # Step 5: the most even spread under the round's cap.
    for component_options, members, fillable in solved:
        chosen = _balanced_flow(component_options, by_id, members, fillable, cap)
        for slot_key in sorted(component_options):
            auditor_id = chosen.get(slot_key)
            if auditor_id is None:
                slot = by_key[slot_key]
                result.unfilled[slot_key] = (
                    f"every {slot.agency_id} auditor who could take it (covering "
                    f"{slot.area_id}, no conflict) is needed for other cases"
                )
            else:
                result.assigned[slot_key] = auditor_id
                result.loads[auditor_id] = result.loads.get(auditor_id, 0) + 1
    return result


def unfilled_reason(slot: Slot, auditors: Iterable[Auditor]) -> str:
    """Why no auditor can take ``slot``: nobody covers it, all are conflicted, or all are full."""
    local = [a for a in auditors if _covers(slot, a)]
    if not local:
        return f"no active auditor of {slot.agency_id} covers {slot.area_id}"
    free = [a for a in local if not _conflicted(slot, a)]
    if not free:
        return f"every {slot.agency_id} auditor covering {slot.area_id} works on this case"
    with_room = sorted(a.id for a in free if a.capacity_left > 0)
    if not with_room:
        overlaps = any(a.held_elsewhere for a in free)
        across = " (with the rounds that overlap this one)" if overlaps else ""
        return f"every {slot.agency_id} auditor covering {slot.area_id} is at capacity{across}"
    return f"no auditor chosen yet ({', '.join(with_room)} could take it)"


def _components(options: Options) -> list[list[str]]:
    """Group slots that share (directly or through others) an eligible auditor."""
    graph = nx.Graph()
    for slot_key, auditor_ids in options.items():
        graph.add_node(("slot", slot_key))
        graph.add_edges_from((("slot", slot_key), ("auditor", a)) for a in auditor_ids)
    groups = (
        sorted(key for kind, key in component if kind == "slot")
        for component in nx.connected_components(graph)
    )
    return sorted(groups)


def _room(auditor: Auditor, load_cap: int | None) -> int:
    room = auditor.capacity_left
    if load_cap is not None:
        room = min(room, load_cap - auditor.held)
    return max(0, room)


def _flow_graph(
    options: Options,
    by_id: dict[str, Auditor],
    members: list[str],
    load_cap: int | None,
) -> nx.DiGraph:
    graph = nx.DiGraph()
    for slot_key in sorted(options):
        graph.add_edge("source", ("slot", slot_key), capacity=1)
        for auditor_id in options[slot_key]:
            graph.add_edge(("slot", slot_key), ("auditor", auditor_id), capacity=1)
    for auditor_id in members:
        graph.add_edge(("auditor", auditor_id), "sink", capacity=_room(by_id[auditor_id], load_cap))
    return graph


def _max_flow(
    options: Options,
    by_id: dict[str, Auditor],
    members: list[str],
    load_cap: int | None,
) -> int:
    graph = _flow_graph(options, by_id, members, load_cap)
    return int(nx.maximum_flow_value(graph, "source", "sink"))


def _smallest_cap(
    options: Options, by_id: dict[str, Auditor], members: list[str], fillable: int
) -> int:
    """The smallest load cap under which ``fillable`` slots can still be filled."""
    if fillable == 0:
        return 0
    held = sum(by_id[a].held for a in members)
    low = max(1, math.ceil((fillable + held) / len(members)))
    high = max(by_id[a].held + by_id[a].capacity_left for a in members)
    while low < high:
        middle = (low + high) // 2
        if _max_flow(options, by_id, members, middle) == fillable:
            high = middle
        else:
            low = middle + 1
    return low


def _balanced_flow(
    options: Options,
    by_id: dict[str, Auditor],
    members: list[str],
    fillable: int,
    load_cap: int,
) -> dict[str, str]:
    """A flow of ``fillable`` units under ``load_cap`` with the least sum of squared loads."""
    if fillable == 0:
        return {}
    graph = nx.MultiDiGraph()
    graph.add_node("source", demand=-fillable)
    graph.add_node("sink", demand=fillable)
    for slot_key in sorted(options):
        graph.add_edge("source", ("slot", slot_key), capacity=1, weight=0)
        for auditor_id in options[slot_key]:
            graph.add_edge(("slot", slot_key), ("auditor", auditor_id), capacity=1, weight=0)
    for auditor_id in members:
        auditor = by_id[auditor_id]
        for k in range(auditor.held + 1, auditor.held + _room(auditor, load_cap) + 1):
            graph.add_edge(("auditor", auditor_id), "sink", capacity=1, weight=2 * k - 1)
    _cost, flow = nx.network_simplex(graph)
    chosen: dict[str, str] = {}
    for slot_key in options:
        for (_kind, auditor_id), by_key in flow[("slot", slot_key)].items():
            if any(units > 0 for units in by_key.values()):
                chosen[slot_key] = auditor_id
    return chosen
