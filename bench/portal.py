"""Benchmark: 50 auditors at once on the return form, against the portal's floor; print JSON.

1. Build a fresh SQLite database in a temporary folder with an open round of
   ``2 * --cases + 1`` cases, one agency each (one task per case, its token known
   to the benchmark), and serve the real portal (``create_app`` over an ``App``
   with a fixed clock) with uvicorn on loopback, in a process of its own so that
   the clients do not share its interpreter.
2. ``--auditors`` simulated auditors at once (asyncio and httpx, one kept-open
   connection each) take ``--cases`` tasks in turn; each opens the form, saves a
   draft twice (part of the sections, then more, with a strength), submits the
   complete return and opens the receipt page the submission redirects to: five
   form requests per task.
3. Before it, under the same load, the same number of requests to ``GET /health``:
   the framework's floor (routing, the middleware and its security headers; no
   database, no template).
4. Both are run twice: ``paced``, each auditor pausing before each request (from
   half to one and a half times ``--think`` seconds, as a person reads and types),
   which gives the latency an auditor meets; and ``burst``, with no pause at all,
   which gives the most requests a second the server takes (its latency there is
   mostly waiting in line: 50 clients over the server's throughput).
5. Print, for each: requests per second and the p50, p95 and p99 latency in
   milliseconds (the form's also by step); ``p95_ratio`` = form p95 / floor p95; and
   whether the targets are met: form p95 under 100 ms on SQLite, and within 3 times
   the floor's. Any answer with an unexpected status is counted in ``errors``.

Run: ``.venv/bin/python bench/portal.py [--cases 60] [--auditors 50] [--think 2.0]``
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing
import random
import socket
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import Engine, insert

from audit_core.adapters import db
from audit_core.adapters.config import load_config
from audit_core.adapters.settings import SmtpSettings
from audit_core.domain.models import Assignment, AuditRound, CaseFile, RoundCase
from audit_core.domain.tokens import hash_token
from audit_core.domain.workdays import LONDON
from audit_core.services.reference import sync_reference_data
from audit_core.services.unit_of_work import UnitOfWork

ROOT = Path(__file__).resolve().parent.parent
CONFIG = load_config(ROOT / "config")
NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=LONDON)  # fieldwork: the round opened on 2 March
DUE = dt.date(2026, 3, 30)
AGENCY, AUDITOR = "hackney-csc", "amara-bello"
MAIL_FROM = "CHSCP Case Audits <case-audits@chscp.example.org>"
TARGET_P95_MS = 100.0
TARGET_RATIO = 3.0
SECTIONS = [s.id for s in CONFIG.audit_tool.sections]
GRADES = [g.id for g in CONFIG.scale.grades]
THEMES = [t.id for t in CONFIG.themes]


def token(n: int) -> str:
    return f"bench-{n:04d}-" + "x" * 32


def build(engine: Engine, cases: int) -> None:
    """An open round of ``cases`` cases with one issued task each (``token(n)``, n from 1)."""
    with db.transaction(engine) as session:
        sync_reference_data(UnitOfWork(session, CONFIG, NOW, "bench"))
        session.execute(
            insert(AuditRound),
            {
                "id": "2026-H1",
                "focus_id": "think-family",
                "areas": ["hackney"],
                "status": "open",
                "seed": 1,
                "cases_requested": {"hackney": cases},
                "audit_tool_id": CONFIG.audit_tool.id,
                "audit_tool_version": CONFIG.audit_tool.version,
                "launch_on": dt.date(2026, 3, 2),
                "launched_at": dt.datetime(2026, 3, 2, 9, tzinfo=LONDON),
                "due_on": DUE,
                "audit_day_on": dt.date(2026, 4, 15),
                "briefing_due_on": dt.date(2026, 5, 14),
                "planned_at": NOW,
                "planned_by": "bench",
            },
        )
        numbers = range(1, cases + 1)
        session.execute(
            insert(CaseFile),
            [
                {
                    "id": n,
                    "area_id": "hackney",
                    "reference": f"HK-{200000 + n}",
                    "category": "child_in_need",
                    "age_band": "5-10",
                    "flags": [],
                    "last_activity_on": dt.date(2026, 1, 15),
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for n in numbers
            ],
        )
        session.execute(
            insert(RoundCase),
            [
                {
                    "id": n,
                    "round_id": "2026-H1",
                    "case_id": n,
                    "area_id": "hackney",
                    "stratum": "child_in_need",
                    "rationale": "bench",
                    "selected_at": NOW,
                }
                for n in numbers
            ],
        )
        session.execute(
            insert(Assignment),
            [
                {
                    "round_case_id": n,
                    "agency_id": AGENCY,
                    "auditor_id": AUDITOR,
                    "status": "issued",
                    "token_hash": hash_token(token(n)),
                    "due_on": DUE,
                    "issued_at": dt.datetime(2026, 3, 2, 9, tzinfo=LONDON),
                    "updated_at": NOW,
                }
                for n in numbers
            ],
        )


# --- the server, in a process of its own ------------------------------------------------------


def serve(database: str, sock: socket.socket, url: str) -> None:
    """uvicorn over the portal, until terminated."""
    import uvicorn

    from audit_core.bootstrap import App
    from audit_core.portal.app import create_app

    engine = db.make_engine(f"sqlite:///{database}")
    mail = SmtpSettings(mail_from=MAIL_FROM, public_url=url)  # receipts are queued, not sent
    app = App(config=CONFIG, engine=engine, smtp=mail, clock=lambda: NOW)
    config = uvicorn.Config(create_app(app), log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


def listening_socket() -> tuple[socket.socket, str]:
    """A listening TCP socket on a free loopback port, and its address. ``IPPROTO_TCP`` is
    named so that asyncio sets ``TCP_NODELAY`` on its connections: without it, a response
    written in two parts waits some 40 ms for the client's delayed acknowledgement."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


def wait_until_up(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"the portal at {url} did not answer within {timeout:.0f} s")


# --- the clients ------------------------------------------------------------------------------


def _answers(n: int, stage: int) -> dict[str, str]:
    """The form's fields after the auditor's ``stage``-th sitting (1, 2, or 3: complete)."""
    graded = {1: 3, 2: len(SECTIONS) - 1, 3: len(SECTIONS)}[stage]
    fields: dict[str, str] = {}
    for i, section in enumerate(SECTIONS):
        if i < graded:
            fields[f"grade-{section}"] = GRADES[(n + i) % len(GRADES)]
            fields[f"good-{section}"] = f"Case {n}: the record shows timely work in {section}."
            fields[f"develop-{section}"] = "Recording of the reasons for decisions."
        fields.setdefault(f"recommend-{section}", "")
    if stage >= 2:
        fields["strength-1-theme"] = THEMES[n % len(THEMES)]
        fields["strength-1-phrase"] = "Persistent home visits"
        fields["strength-1-text"] = "The worker kept visiting until the child was seen alone."
    if stage >= 3:
        fields["lesson-1-theme"] = THEMES[(n + 1) % len(THEMES)]
        fields["lesson-1-text"] = "Information from the school reached the plan late."
    return fields


class Recorder:
    """Each request's latency by step, and every answer with a status not expected."""

    def __init__(self) -> None:
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []

    async def request(
        self,
        client: httpx.AsyncClient,
        step: str,
        expected: int,
        method: str,
        path: str,
        data: dict[str, str] | None = None,
    ) -> None:
        started = time.perf_counter()
        answer = await client.request(method, path, data=data)
        self.timings[step].append(time.perf_counter() - started)
        if answer.status_code != expected:
            self.errors.append(f"{step}: {answer.status_code}")

    def latencies(self) -> list[float]:
        return [t for step in self.timings.values() for t in step]


@dataclass
class Load:
    """How the clients behave: how many at once, and how long each pauses before a request
    (a random share, from half to one and a half times ``think`` seconds; 0: no pause)."""

    clients: int
    think: float
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    async def pause(self) -> None:
        if self.think:
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.think)


Visit = Callable[[int, httpx.AsyncClient, Recorder, Load], Awaitable[None]]


async def auditor(n: int, client: httpx.AsyncClient, record: Recorder, load: Load) -> None:
    """One auditor's visits: open, save twice, submit, read the receipt."""
    form = f"/return/{token(n)}"
    await load.pause()
    await record.request(client, "open", 200, "GET", form)
    for stage in (1, 2):
        await load.pause()
        await record.request(
            client, "save", 200, "POST", form, {**_answers(n, stage), "intent": "save"}
        )
    await load.pause()
    await record.request(
        client, "submit", 303, "POST", form, {**_answers(n, 3), "intent": "submit"}
    )
    await load.pause()
    await record.request(client, "receipt", 200, "GET", form)


async def health(_: int, client: httpx.AsyncClient, record: Recorder, load: Load) -> None:
    await load.pause()
    await record.request(client, "health", 200, "GET", "/health")


async def phase(url: str, load: Load, jobs: list[int], visit: Visit) -> tuple[Recorder, float]:
    """``load.clients`` clients, a connection each, take ``jobs`` in turn; what they met, and
    the seconds it took. Each connects before the clock starts, as a browser keeps its own."""
    record, queue = Recorder(), list(reversed(jobs))
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=url, limits=limits, trust_env=False, timeout=60)
        for _ in range(load.clients)
    ]

    async def worker(client: httpx.AsyncClient) -> None:
        while queue:
            await visit(queue.pop(), client, record, load)

    try:
        await asyncio.gather(*(c.get("/health") for c in clients))
        started = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in clients))
        seconds = time.perf_counter() - started
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    return record, seconds


def summary(latencies: list[float], seconds: float | None = None) -> dict[str, Any]:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    figures: dict[str, Any] = {"requests": len(latencies)}
    if seconds is not None:
        figures["per_second"] = round(len(latencies) / seconds, 1)
    figures.update(
        p50_ms=round(cuts[49] * 1000, 1),
        p95_ms=round(cuts[94] * 1000, 1),
        p99_ms=round(cuts[98] * 1000, 1),
    )
    return figures


async def compare(url: str, load: Load, tasks: list[int]) -> dict[str, Any]:
    """The floor, then the form, under the same load; their figures and the targets."""
    floor_record, floor_seconds = await phase(url, load, list(range(len(tasks) * 5)), health)
    form_record, form_seconds = await phase(url, load, tasks, auditor)
    form = summary(form_record.latencies(), form_seconds)
    form["by_step"] = {step: summary(t) for step, t in form_record.timings.items()}
    form["errors"] = len(form_record.errors)
    if form_record.errors:
        form["first_errors"] = form_record.errors[:5]
    floor = summary(floor_record.latencies(), floor_seconds)
    floor["errors"] = len(floor_record.errors)
    ratio = form["p95_ms"] / floor["p95_ms"]
    return {
        "form": form,
        "floor_health": floor,
        "p95_ratio": round(ratio, 2),
        "targets": {
            f"form_p95_under_{TARGET_P95_MS:.0f}_ms": form["p95_ms"] < TARGET_P95_MS,
            f"form_p95_within_{TARGET_RATIO:.0f}x_floor": ratio <= TARGET_RATIO,
            "no_errors": not form_record.errors and not floor_record.errors,
        },
    }


async def measure(url: str, cases: int, auditors: int, think: float) -> dict[str, Any]:
    # a warm-up, not counted: imports, templates and the database's first pages
    await phase(url, Load(auditors, 0), list(range(200)), health)
    await phase(url, Load(1, 0), [2 * cases + 1], auditor)
    return {
        "paced": await compare(url, Load(auditors, think), list(range(1, cases + 1))),
        "burst": await compare(url, Load(auditors, 0), list(range(cases + 1, 2 * cases + 1))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--auditors", type=int, default=50)
    parser.add_argument("--think", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = str(Path(folder) / "bench.db")
        engine = db.make_engine(f"sqlite:///{database}")
        db.upgrade(engine)
        build(engine, 2 * args.cases + 1)
        engine.dispose()
        sock, url = listening_socket()
        server = multiprocessing.get_context("fork").Process(
            target=serve, args=(database, sock, url), daemon=True
        )
        server.start()
        sock.close()  # the server's process holds its own copy
        try:
            wait_until_up(url)
            figures = asyncio.run(measure(url, args.cases, args.auditors, args.think))
        finally:
            server.terminate()
            server.join(timeout=10)
    report = {
        "database": "sqlite",
        "cases": args.cases,
        "auditors_at_once": args.auditors,
        "form_requests_per_task": 5,
        "think_seconds": args.think,
        **figures,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
