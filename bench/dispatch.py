"""Benchmark: queue and dispatch 10,000 emails to a local SMTP sink; print JSON figures.

1. Queue ``--messages`` task emails (the real templates and a calendar
   attachment each) into a fresh SQLite database in a temporary folder:
   ``queue_per_second`` (in batches, as a launch queues a round's tasks).
2. Start an aiosmtpd sink in its own process (it discards what it receives).
3. In ``--rounds`` alternating rounds (so that both meet the same load on the
   machine), send a share of the stored bytes with a plain ``smtplib`` loop over
   one connection, then dispatch the same share from the outbox to the same
   sink (each message claimed, sent and marked in the database).
4. Print ``plain_smtplib_per_second`` (the ceiling for this sink),
   ``dispatcher_per_second`` and ``ratio`` = dispatcher / plain (target: 0.85 or more),
   and ``queue_to_plain`` = queueing rate / plain sending rate (target: 0.5 or more).

Run: ``.venv/bin/python bench/dispatch.py [--messages 10000]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import smtplib
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from audit_core.adapters import db
from audit_core.adapters.config import load_config
from audit_core.adapters.mail_render import EmailComposer
from audit_core.adapters.settings import SmtpSettings
from audit_core.adapters.smtp_sink import free_port
from audit_core.adapters.smtp_transport import SmtpTransport, Work
from audit_core.bootstrap import App
from audit_core.domain.models import OutboxBody, OutboxMessage
from audit_core.domain.policy import BoardConfig
from audit_core.services import emails, outbox
from audit_core.services.ports import Letter, Mail
from audit_core.services.unit_of_work import UnitOfWork

ROOT = Path(__file__).resolve().parent.parent
MAIL_FROM = "CHSCP Case Audits <case-audits@chscp.example.org>"
PUBLIC_URL = "https://audits.chscp.example.org"
QUEUE_BATCH = 500


def drafts(count: int, cfg: BoardConfig) -> list[outbox.Draft]:
    """Task emails like the real ones (templates, calendar), for made-up assignments."""
    sections = [s.title for s in cfg.audit_tool.sections]
    due, audit_day = dt.date(2026, 3, 30), dt.date(2026, 4, 15)
    out = []
    for n in range(count):
        facts = {
            "board_name": cfg.board.name,
            "business_unit": emails.business_unit(cfg),
            "round_id": "2026-H1",
            "focus_name": "Think Family",
            "audit_day_on": audit_day,
            "case_ref": f"HK-{n:05d}",
            "area_name": "Hackney",
            "agency_name": "Hackney Children and Families Service",
            "due_on": due,
        }
        letter = Letter(
            template="task",
            context={
                **facts,
                "auditor_name": f"Auditor {n}",
                "link": f"{PUBLIC_URL}/return/{'x' * 43}",
                "audit_tool_name": cfg.audit_tool.name,
                "sections": sections,
            },
            to=[(f"Auditor {n}", f"auditor{n}@example.org")],
            reply_to=(cfg.board.business_unit.name, cfg.board.business_unit.email),
            calendar=emails.task_calendar(facts),
        )
        out.append(outbox.Draft(dedupe_key=f"task:{n}", kind="task", letter=letter))
    return out


def start_sink(port: int) -> subprocess.Popen[str]:
    sink = subprocess.Popen(
        [sys.executable, "-m", "audit_core.adapters.smtp_sink", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sink.stdout is not None
    first = sink.stdout.readline()
    if not first.startswith("SMTP sink on"):
        raise RuntimeError(f"the sink did not start: {first!r}")
    return sink


class TimedTransport(SmtpTransport):
    """The dispatcher's own SMTP transport, timing how long it spends on SMTP.

    The database work the dispatcher hands it (run while the server is busy) is timed
    apart and not counted as SMTP time.
    """

    seconds = 0.0
    work_seconds = 0.0

    def _timed(self, work: Work | None) -> Work | None:
        if work is None:
            return None

        def timed() -> None:
            start = time.perf_counter()
            try:
                work()
            finally:
                self.work_seconds += time.perf_counter() - start

        return timed

    def send(
        self,
        sender: str,
        recipients: Sequence[str],
        raw: bytes,
        *,
        while_envelope: Work | None = None,
        while_content: Work | None = None,
    ) -> dict[str, str]:
        start, work_before = time.perf_counter(), self.work_seconds
        try:
            return super().send(
                sender,
                recipients,
                raw,
                while_envelope=self._timed(while_envelope),
                while_content=self._timed(while_content),
            )
        finally:
            self.seconds += time.perf_counter() - start - (self.work_seconds - work_before)


def plain_loop(port: int, messages: list[tuple[str, list[str], bytes]]) -> float:
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, local_hostname="bench") as conn:
        for sender, recipients, raw in messages:
            conn.sendmail(sender, recipients, raw)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    count, rounds = args.messages, args.rounds
    config = load_config(ROOT / "config")
    with tempfile.TemporaryDirectory() as folder:
        engine = db.make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        db.upgrade(engine)
        now = dt.datetime.now(dt.UTC)
        todo = drafts(count, config)
        mail = Mail(EmailComposer(installation=db.installation_id(engine)), MAIL_FROM, PUBLIC_URL)

        start = time.perf_counter()
        with db.transaction(engine) as session:
            uow = UnitOfWork(session, config, now, "bench", mail)
            for first in range(0, count, QUEUE_BATCH):  # as a launch queues a round's tasks
                outbox.queue_many(uow, todo[first : first + QUEUE_BATCH])
        queue_seconds = time.perf_counter() - start

        with db.transaction(engine) as session:
            stored = [
                (sender, list(recipients), bytes(raw))
                for sender, recipients, raw in session.execute(
                    select(OutboxMessage.sender, OutboxMessage.recipients, OutboxBody.raw)
                    .join(OutboxMessage.body)
                    .order_by(OutboxMessage.id)
                )
            ]

        port = free_port()
        sink = start_sink(port)
        settings = SmtpSettings(
            host="127.0.0.1", port=port, security="none", mail_from=MAIL_FROM, public_url=PUBLIC_URL
        )
        app = App(
            config=config, engine=engine, smtp=settings, clock=lambda: dt.datetime.now(dt.UTC)
        )
        share = -(-count // rounds)
        plain_seconds = dispatch_seconds = smtp_seconds = 0.0
        sent = 0
        try:
            for first in range(0, count, share):
                plain_seconds += plain_loop(port, stored[first : first + share])
                transport = TimedTransport(settings)
                start = time.perf_counter()
                result = app.dispatch(limit=share, transport=transport)
                dispatch_seconds += time.perf_counter() - start
                transport.close()
                smtp_seconds += transport.seconds
                sent += result.sent
        finally:
            sink.terminate()
            received_line = sink.communicate(timeout=30)[0].strip().splitlines()[-1]
        engine.dispose()

    if sent != count:
        raise SystemExit(f"the dispatcher sent {sent} of {count}")
    dispatcher_rate = count / dispatch_seconds
    plain_rate = count / plain_seconds
    print(
        json.dumps(
            {
                "messages": count,
                "queue_per_second": round(count / queue_seconds, 1),
                "dispatcher_per_second": round(dispatcher_rate, 1),
                "plain_smtplib_per_second": round(plain_rate, 1),
                "ratio": round(dispatcher_rate / plain_rate, 3),
                "queue_to_plain": round(count / queue_seconds / plain_rate, 3),
                # of the dispatcher's time per message, how much went to the database
                # (much of it while the server was busy) and how much to SMTP
                "dispatcher_database_ms_per_message": round(
                    (dispatch_seconds - smtp_seconds) / count * 1000, 3
                ),
                "dispatcher_smtp_ms_per_message": round(smtp_seconds / count * 1000, 3),
                "plain_smtp_ms_per_message": round(plain_seconds / count * 1000, 3),
                "rounds": rounds,
                "sink": received_line,
                "database": "sqlite",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
