"""Benchmark: plan a round over a large synthetic register and print JSON figures.

A register of 100,000 cases in 150 areas with 3,000 auditors across 16
agencies is generated in memory (fixed seed), then the same pure functions the
``plan_round`` use case calls select 10 cases per area and assign auditors.

Printed: seconds for selection, assignment and the whole plan; the largest
auditor load; the simple counting bound (per group of slots and auditors that
share eligibility, the filled slots over the auditors, rounded up; the
largest over the groups); and the true optimum found independently of the
solver: the smallest cap on every auditor's load under which a maximum flow
over the whole round, by another algorithm, still fills as many slots.

Then the same register is stored in a fresh SQLite database and the
``plan_round`` use case itself is timed end to end, as ``auditround round
plan`` runs it: mirroring the 3,000 auditors, loading the candidates, selection,
assignment, writing the round, its cases, assignments and audit events, and
the commit (``database_plan_seconds``; ``--no-database`` skips it).

Run: ``.venv/bin/python bench/plan_round.py [--cases 100000] [--areas 150] [--auditors 3000]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx
from networkx.algorithms.flow import boykov_kolmogorov

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from audit_core.adapters import db
from audit_core.adapters.config import load_config
from audit_core.domain.assignment import Auditor, Slot, assign
from audit_core.domain.models import CaseFile, CaseInvolvement
from audit_core.domain.policy import Agency, Area, BoardConfig, Contact
from audit_core.domain.policy import Auditor as AuditorConfig
from audit_core.domain.selection import Candidate, Criteria, Involvement, select_cases
from audit_core.services.planning import plan_round
from audit_core.services.reference import sync_reference_data
from audit_core.services.unit_of_work import UnitOfWork

ROOT = Path(__file__).resolve().parent.parent

EXAMPLE = load_config(ROOT / "config")
AGENCIES = tuple(agency.id for agency in EXAMPLE.agencies)  # the example board's 16
CATEGORIES = ("early_help", "child_in_need", "child_protection", "looked_after", "s47_enquiry")
AGE_BANDS = ("0-4", "5-10", "11-15", "16-17")
FLAGS = (
    "parental_mental_health",
    "domestic_abuse",
    "parental_substance_misuse",
    "neglect",
    "child_exploitation",
    "live_review",
    "in_court",
)
TODAY = dt.date(2026, 3, 2)
PRACTITIONERS_PER_AGENCY_AREA = 12


def synthetic_register(cases: int, areas: list[str], rng: random.Random) -> list[Candidate]:
    register = []
    for n in range(cases):
        area = areas[n % len(areas)]
        agencies = rng.sample(AGENCIES, rng.choice((1, 2, 2, 3, 3, 4, 5, 6)))
        involvements = tuple(
            Involvement(
                agency,
                frozenset(
                    f"{agency}:{area}:{rng.randrange(PRACTITIONERS_PER_AGENCY_AREA)}"
                    for _ in range(rng.choice((1, 1, 2)))
                ),
            )
            for agency in sorted(agencies)
        )
        flags = frozenset(f for f in FLAGS if rng.random() < (0.02 if f in FLAGS[5:] else 0.2))
        audited = TODAY - dt.timedelta(days=rng.randrange(30, 1500)) if rng.random() < 0.3 else None
        register.append(
            Candidate(
                case_id=n + 1,
                reference=f"C{n + 1:07d}",
                area_id=area,
                category=rng.choice(CATEGORIES),
                age_band=rng.choice(AGE_BANDS),
                flags=flags,
                last_activity_on=TODAY - dt.timedelta(days=rng.randrange(0, 800)),
                last_audited_on=audited,
                involvements=involvements,
            )
        )
    return register


def synthetic_auditors(count: int, areas: list[str], rng: random.Random) -> list[Auditor]:
    auditors = []
    for n in range(count):
        agency = AGENCIES[n % len(AGENCIES)]
        home = rng.randrange(len(areas))
        covered = frozenset(areas[(home + d) % len(areas)] for d in range(rng.choice((2, 3, 4, 5))))
        practitioner_ids = (
            frozenset({f"{agency}:{areas[home]}:{rng.randrange(PRACTITIONERS_PER_AGENCY_AREA)}"})
            if rng.random() < 0.5
            else frozenset()
        )
        auditors.append(
            Auditor(
                id=f"auditor-{n:05d}",
                agency_id=agency,
                areas=covered,
                capacity=rng.choice((2, 3, 3, 4, 5)),
                practitioner_ids=practitioner_ids,
            )
        )
    return auditors


def independent_optimum(slots: list[Slot], auditors: list[Auditor], filled: int, start: int) -> int:
    """The smallest largest load that still fills ``filled`` slots, found without the solver.

    One maximum flow over the whole round (no splitting into components, another flow
    algorithm) for each cap from ``start`` upwards.
    """
    by_pool: dict[tuple[str, str], list[Auditor]] = {}
    for auditor in auditors:
        for area in auditor.areas:
            by_pool.setdefault((auditor.agency_id, area), []).append(auditor)
    graph = nx.DiGraph()
    for slot in slots:
        graph.add_edge("s", ("slot", slot.key), capacity=1)
        for auditor in by_pool.get((slot.agency_id, slot.area_id), []):
            if not auditor.practitioner_ids & slot.practitioner_ids:
                graph.add_edge(("slot", slot.key), ("a", auditor.id), capacity=1)
    cap = max(start, 1)
    while True:
        for auditor in auditors:
            graph.add_edge(("a", auditor.id), "t", capacity=min(auditor.capacity, cap))
        if nx.maximum_flow_value(graph, "s", "t", flow_func=boykov_kolmogorov) >= filled:
            return cap
        cap += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--areas", type=int, default=150)
    parser.add_argument("--auditors", type=int, default=3_000)
    parser.add_argument("--per-area", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20260302)
    parser.add_argument("--no-database", action="store_true", help="Skip the end-to-end run.")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    areas = [f"area-{n:03d}" for n in range(args.areas)]
    register = synthetic_register(args.cases, areas, rng)
    auditors = synthetic_auditors(args.auditors, areas, rng)
    board = synthetic_board(areas, auditors)
    criteria = Criteria.from_config(board, board.focus("think-family"))

    started = time.perf_counter()
    selection = select_cases(
        register, criteria, today=TODAY, areas=areas, cases_per_area=args.per_area, seed=args.seed
    )
    selected_at = time.perf_counter()
    slots = [
        Slot(
            key=f"{chosen.case.case_id}:{inv.agency_id}",
            area_id=chosen.case.area_id,
            agency_id=inv.agency_id,
            practitioner_ids=inv.practitioner_ids,
        )
        for chosen in selection.chosen
        for inv in chosen.case.involvements
    ]
    slots_at = time.perf_counter()
    result = assign(slots, auditors)
    finished = time.perf_counter()

    filled = len(result.assigned)
    optimum = independent_optimum(slots, auditors, filled, result.counting_bound)
    figures = {
        "benchmark": "plan_round",
        "cases_in_register": args.cases,
        "areas": args.areas,
        "auditors": args.auditors,
        "cases_per_area": args.per_area,
        "cases_selected": len(selection.chosen),
        "slots": len(slots),
        "slots_filled": filled,
        "slots_unfilled": len(result.unfilled),
        "selection_seconds": round(selected_at - started, 3),
        "assignment_seconds": round(finished - slots_at, 3),
        "plan_seconds": round(finished - started, 3),
        "max_load": result.max_load,
        "counting_lower_bound": result.counting_bound,
        "optimal_max_load_independent_check": optimum,
        "max_load_is_optimal": result.max_load == optimum,
        "target_seconds": 10,
    }
    if not args.no_database:
        figures.update(database_plan(board, register, areas, args.per_area, args.seed))
    print(json.dumps(figures, indent=2))


def synthetic_board(areas: list[str], auditors: list[Auditor]) -> BoardConfig:
    """The example board's policy with the synthetic areas, agencies and auditors."""
    base = EXAMPLE
    lead = Contact(name="Agency lead", email="lead@example.org")
    return base.model_copy(
        update={
            "board": base.board.model_copy(
                update={
                    "areas": tuple(Area(id=a, name=a, case_ref_pattern=r"C\d{7}") for a in areas)
                }
            ),
            "agencies": tuple(
                Agency(id=a, name=a, sector="other", areas=tuple(areas), lead=lead)
                for a in AGENCIES
            ),
            "auditors": tuple(
                AuditorConfig(
                    id=a.id,
                    name=a.id,
                    email=f"{a.id}@example.org",
                    agency=a.agency_id,
                    areas=tuple(sorted(a.areas)),
                    capacity=a.capacity,
                    practitioner_ids=tuple(sorted(a.practitioner_ids)),
                )
                for a in auditors
            ),
        }
    )


def database_plan(
    config: BoardConfig, register: list[Candidate], areas: list[str], per_area: int, seed: int
) -> dict[str, object]:
    """Store the register in SQLite, then time ``plan_round`` end to end, commit included."""
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with tempfile.TemporaryDirectory() as folder:
        engine = db.make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        db.upgrade(engine)
        with db.transaction(engine) as session:
            sync_reference_data(UnitOfWork(session, config, now, "bench"))
            session.execute(
                insert(CaseFile),
                [
                    {
                        "id": case.case_id,
                        "area_id": case.area_id,
                        "reference": case.reference,
                        "category": case.category,
                        "age_band": case.age_band,
                        "flags": sorted(case.flags),
                        "last_activity_on": case.last_activity_on,
                        "last_audited_on": case.last_audited_on,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for case in register
                ],
            )
            session.execute(
                insert(CaseInvolvement),
                [
                    {
                        "case_id": case.case_id,
                        "agency_id": inv.agency_id,
                        "practitioner_ids": sorted(inv.practitioner_ids),
                    }
                    for case in register
                    for inv in case.involvements
                ],
            )
        started = time.perf_counter()
        with db.transaction(engine) as session:
            result = plan_round(
                UnitOfWork(session, config, now, "bench"),
                period="2026-H1",
                focus_id="think-family",
                area_ids=areas,
                seed=seed,
                cases_per_area=per_area,
            )
        seconds = time.perf_counter() - started
        engine.dispose()
    return {
        "database": "sqlite",
        "database_plan_seconds": round(seconds, 3),
        "database_plan_cases": result.cases,
        "database_plan_filled": result.filled,
        "database_plan_max_load": result.max_load,
    }


if __name__ == "__main__":
    main()
