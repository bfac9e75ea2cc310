"""Benchmark: what chaining the audit trail costs, and how long verifying it takes.

In alternating rounds, each in a fresh database (SQLite files by default, or
``--database URL``, emptied and migrated each time):

1. ``record_many`` of N events in one transaction, then the commit, as a register
   import records its cases: the events are hashed in order and written in one
   bulk insert (``chained_seconds``, the median);
2. the same N rows written by a plain bulk insert with made-up places and hashes
   (``plain_seconds``, the median): the cost of the rows alone;
3. ``verify_trail`` over the last chained trail, recomputing every hash
   (``verify_seconds``).

Run: ``.venv/bin/python bench/audit_trail.py [--events 200000] [--rounds 3] [--database URL]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, insert, text

from audit_core.adapters import db
from audit_core.adapters.config import load_config
from audit_core.domain.models import AuditEvent
from audit_core.domain.policy import BoardConfig
from audit_core.domain.trail import GENESIS
from audit_core.services.audit_verify import verify_trail
from audit_core.services.unit_of_work import UnitOfWork

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
Events = list[tuple[int, dict[str, Any]]]


def _fresh(url: str) -> Engine:
    engine = db.make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    db.upgrade(engine)
    return engine


def _chained(engine: Engine, config: BoardConfig, events: Events) -> float:
    started = time.perf_counter()
    with db.transaction(engine) as session:
        UnitOfWork(session, config, NOW, "bench").record_many("added", "case_file", events)
    return time.perf_counter() - started


def _plain(engine: Engine, events: Events) -> float:
    rows = [
        {
            "at": NOW,
            "actor": "bench",
            "action": "added",
            "object_type": "case_file",
            "object_id": str(n),
            "round_id": None,
            "details": details,
            "seq": n + 1,
            "prev_hash": GENESIS,
            "hash": GENESIS,
        }
        for n, details in events
    ]
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(AuditEvent.__table__), rows)  # type: ignore[arg-type]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    config = load_config(Path(__file__).resolve().parent.parent / "config")
    events: Events = [
        (n, {"area": "hackney", "reference": f"HK-{n:06d}"}) for n in range(args.events)
    ]
    chained, plain = [], []
    with tempfile.TemporaryDirectory() as folder:
        for n in range(args.rounds):
            engine = _fresh(args.database or f"sqlite:///{folder}/plain-{n}.db")
            plain.append(_plain(engine, events))
            engine.dispose()
            engine = _fresh(args.database or f"sqlite:///{folder}/chained-{n}.db")
            chained.append(_chained(engine, config, events))
            if n < args.rounds - 1:
                engine.dispose()
        started = time.perf_counter()
        with db.transaction(engine) as session:
            checked = verify_trail(session)
        verify = time.perf_counter() - started
        assert checked.intact and checked.checked == args.events, checked.sentence()
        name = engine.dialect.name
        engine.dispose()
    print(
        json.dumps(
            {
                "database": name,
                "events": args.events,
                "chained_seconds": round(statistics.median(chained), 2),
                "plain_seconds": round(statistics.median(plain), 2),
                "ratio": round(statistics.median(chained) / statistics.median(plain), 2),
                "verify_seconds": round(verify, 2),
                "verify_events_per_second": round(args.events / verify),
            }
        )
    )


if __name__ == "__main__":
    main()
