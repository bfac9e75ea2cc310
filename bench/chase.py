"""Benchmark: the daily chase sweep over 10,000, 100,000 and 1,000,000 assignments.

For each size a fresh SQLite database holds that many assignments, of which 1,000
have a reminder due today (Monday 23 March 2026, five working days before their
deadline); the rest are in closed rounds, submitted, or have their next chase day
later. The sweep is timed as ``auditround chase`` runs it, once looking only
(``--dry-run``: the query and the rules) and once for real (the 1,000 reminders
composed and queued in the outbox, the steps kept), with its peak Python memory
(tracemalloc).

The target: the sweep over 1,000,000 within 2x the sweep over 10,000 (its cost
follows what is due, through the index on ``assignment.chase_on``).

Run: ``.venv/bin/python bench/chase.py [--sizes 10000,100000,1000000] [--due 1000]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, insert

from audit_core.adapters import db
from audit_core.adapters.config import load_config
from audit_core.adapters.mail_render import EmailComposer
from audit_core.domain.models import Assignment, AuditRound, CaseFile, RoundCase
from audit_core.domain.workdays import LONDON
from audit_core.services.chase import sweep
from audit_core.services.ports import Mail
from audit_core.services.reference import sync_reference_data
from audit_core.services.unit_of_work import UnitOfWork

ROOT = Path(__file__).resolve().parent.parent
CONFIG = load_config(ROOT / "config")
NOW = dt.datetime(2026, 3, 23, 8, 0, tzinfo=LONDON)
DUE = dt.date(2026, 3, 30)  # five working days after NOW: the first reminder is due
PER_CASE = 4  # assignments per selected case
AGENCIES = [a.id for a in CONFIG.agencies if "hackney" in a.areas][:PER_CASE]
AUDITORS = {a.agency: a.id for a in CONFIG.auditors if "hackney" in a.areas}
CHUNK = 20_000


def _rounds(count: int) -> list[dict[str, Any]]:
    """One open round holding the due tasks, and closed ones holding the rest."""
    rows = []
    for n in range(count):
        rows.append(
            {
                "id": "2026-H1" if n == 0 else f"{2000 + n // 2}-H{n % 2 + 1}",
                "focus_id": "think-family",
                "areas": ["hackney"],
                "status": "open" if n == 0 else "closed",
                "seed": n,
                "cases_requested": {"hackney": 1},
                "audit_tool_id": CONFIG.audit_tool.id,
                "audit_tool_version": CONFIG.audit_tool.version,
                "launch_on": dt.date(2026, 3, 2),
                "due_on": DUE,
                "audit_day_on": dt.date(2026, 4, 15),
                "briefing_due_on": dt.date(2026, 5, 14),
                "planned_at": NOW,
                "planned_by": "bench",
            }
        )
    return rows


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def build(engine: Engine, size: int, due: int) -> None:
    """``size`` assignments, ``due`` of them with a reminder due today."""
    cases = size // PER_CASE
    rounds = _rounds(max(2, cases // 5_000))
    with db.transaction(engine) as session:
        sync_reference_data(UnitOfWork(session, CONFIG, NOW, "bench"))
        session.execute(insert(AuditRound), rounds)
        cases_rows = (
            {
                "id": n + 1,
                "area_id": "hackney",
                "reference": f"HK-{n + 1:07d}",
                "category": "child_in_need",
                "age_band": "5-10",
                "flags": [],
                "last_activity_on": dt.date(2026, 1, 15),
                "created_at": NOW,
                "updated_at": NOW,
            }
            for n in range(cases)
        )
        for chunk in _chunks(cases_rows):
            session.execute(insert(CaseFile), chunk)
        open_cases = -(-due // PER_CASE)
        round_cases = (
            {
                "id": n + 1,
                "round_id": rounds[0 if n < open_cases else 1 + n % (len(rounds) - 1)]["id"],
                "case_id": n + 1,
                "area_id": "hackney",
                "stratum": "child_in_need",
                "rationale": "bench",
                "selected_at": NOW,
            }
            for n in range(cases)
        )
        for chunk in _chunks(round_cases):
            session.execute(insert(RoundCase), chunk)
        for chunk in _chunks(_assignments(cases, due)):
            session.execute(insert(Assignment), chunk)


def _assignments(cases: int, due: int) -> Iterator[dict[str, Any]]:
    n = 0
    for case in range(cases):
        for agency in AGENCIES:
            is_due = n < due
            later = n % 3 == 0  # in an open round's future, or a closed round's past
            yield {
                "round_case_id": case + 1,
                "agency_id": agency,
                "auditor_id": AUDITORS.get(agency),
                "status": "issued" if is_due or later else "submitted",
                "due_on": DUE if is_due else DUE + dt.timedelta(days=60),
                "issued_at": dt.datetime(2026, 3, 2, 9, tzinfo=LONDON),
                "chase_on": NOW.date() if is_due else (dt.date(2026, 5, 18) if later else None),
                "updated_at": NOW,
            }
            n += 1


def timed_sweep(engine: Engine, installation: str, *, dry_run: bool) -> dict[str, Any]:
    mail = Mail(EmailComposer(installation=installation), "audits@example.org", "https://x.test")
    tracemalloc.start()
    started = time.perf_counter()
    with db.transaction(engine) as session:
        report = sweep(UnitOfWork(session, CONFIG, NOW, "bench", mail), dry_run=dry_run)
        if dry_run:
            session.rollback()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "seconds": round(seconds, 3),
        "peak_mb": round(peak / 2**20, 1),
        "looked_at": report.looked_at,
        "reminders": len(report.reminders),
    }


def warm_up() -> None:
    """A small sweep first, so that imports, templates and the bank holiday table are
    loaded before the first size is timed."""
    with tempfile.TemporaryDirectory() as folder:
        engine = db.make_engine(f"sqlite:///{folder}/warm.db")
        db.upgrade(engine)
        build(engine, 400, 40)
        timed_sweep(engine, db.installation_id(engine), dry_run=False)
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--due", type=int, default=1000)
    args = parser.parse_args()
    figures: dict[str, Any] = {"due_today": args.due, "sizes": {}}
    warm_up()
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            engine = db.make_engine(f"sqlite:///{folder}/bench.db")
            db.upgrade(engine)
            started = time.perf_counter()
            build(engine, size, args.due)
            built = time.perf_counter() - started
            installation = db.installation_id(engine)
            look = timed_sweep(engine, installation, dry_run=True)
            real = timed_sweep(engine, installation, dry_run=False)
            engine.dispose()
        figures["sizes"][str(size)] = {
            "build_seconds": round(built, 1),
            "dry_run": look,
            "sweep": real,
        }
    sizes = figures["sizes"]
    smallest, largest = sizes[min(sizes, key=int)], sizes[max(sizes, key=int)]
    figures["largest_over_smallest"] = {
        "dry_run": round(largest["dry_run"]["seconds"] / smallest["dry_run"]["seconds"], 2),
        "sweep": round(largest["sweep"]["seconds"] / smallest["sweep"]["seconds"], 2),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
