"""``make demo``: rehearse two audit rounds and the actions between them, on embedded defaults.

Everything runs locally: a fresh SQLite database under ``out/``, the example City &
Hackney configuration, the synthetic case register, and a loopback SMTP server that
saves every email it receives under ``out/mail/``. The clock is fixed (``--now`` on
each command) so that the rehearsal gives the same dates every time:

1. the first round, Think Family, from planning in April 2026 to its briefings in June
   (examples/demo_round.py);
2. an action on each of its lessons, followed up over the summer (examples/demo_actions.py);
3. the second round, neglect and parental mental health, from October to December: its
   briefings report on the first round's actions, and a lesson that came back is marked
   as a well established finding;
4. the action plan exported, and the board year's report.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from typing import TYPE_CHECKING

from examples.demo_cli import (
    OUT,
    PREFECT_HOME,
    DemoStopped,
    at,
    console,
    run,
    run_flow,
    without_heartbeats,
)
from examples.demo_round import DemoRound, rehearse_round

if TYPE_CHECKING:
    from audit_core.adapters.smtp_sink import Sink

ROUNDS = (
    DemoRound(
        "2026-H1",
        "think-family",
        "Think Family",
        plan_on=dt.date(2026, 4, 13),
        launch_on=dt.date(2026, 4, 14),
        seed=2026,
    ),
    DemoRound(
        "2026-H2",
        "neglect-mental-health",
        "neglect and parental mental health",
        plan_on=dt.date(2026, 10, 12),
        launch_on=dt.date(2026, 10, 13),
        seed=2027,
    ),
)
YEAR = "2026-27"


def main() -> int:
    from audit_core.adapters import smtp_sink
    from audit_core.domain.errors import AuditRoundError

    prepare()
    with smtp_sink.running(save_dir=OUT / "mail") as sink:
        os.environ.update(sink.env())
        try:
            with without_heartbeats():
                rehearse(sink)
        except (AuditRoundError, DemoStopped) as exc:
            console.print(f"[bold red]Error:[/] {exc}")
            return 1
        received = sink.count
    done(received)
    return 0


def prepare() -> None:
    """A fresh out/ folder, and the environment every command of the rehearsal reads."""
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "mail").mkdir(parents=True)
    os.environ["AUDITROUND_DATABASE_URL"] = f"sqlite:///{OUT / 'demo.db'}"
    os.environ["PREFECT_HOME"] = str(PREFECT_HOME.resolve())  # the temporary server's runs
    os.environ.setdefault("AUDITROUND_CONFIG", "config")
    os.environ["AUDITROUND_NOW"] = at(ROUNDS[0].plan_on, "09:00")
    os.environ.setdefault("AUDITROUND_ACTOR", "demo:business-unit")
    os.environ.setdefault("AUDITROUND_PUBLIC_URL", "http://127.0.0.1:8000")
    os.environ.setdefault("AUDITROUND_MAIL_FROM", "audits@chscp.example.org")


def rehearse(sink: Sink) -> None:
    from examples.demo_actions import between_rounds
    from flows.year_report import year_report_flow

    first, second = ROUNDS
    run("Create the database", ["db", "upgrade"])
    run("Check the configuration", ["config", "check"])
    run("Import the case register", ["cases", "import", "examples/case_register.csv"])
    run("The register by area and category", ["cases", "list"])
    rehearse_round(first, sink)
    between_rounds(first, second, sink)
    rehearse_round(second, sink)
    end = at(second.timeline.briefing_due_on, "17:00")
    run("Every round at a glance", ["--now", end, "round", "list"])
    run(
        "The action plan, for the board",
        ["--now", end, "actions", "export", str(OUT / f"action-plan-{YEAR}.xlsx")],
    )
    run_flow(
        f"The board year {YEAR} so far: the year report",
        year_report_flow,
        year=YEAR,
        out=str(OUT),
        now=end,
    )


def done(received: int) -> None:
    console.rule("[bold]Done")
    briefings = sorted(p.name for p in OUT.glob("briefing-*.pdf") if "seven" not in p.name)
    console.print(
        f"The briefings (full and seven-minute, HTML and PDF) are under {OUT}/: "
        f"{', '.join(briefings)} and their -seven-minute versions.\n"
        f"The year report is {OUT / f'year-report-{YEAR}.pdf'} (and .html); the action plan "
        f"{OUT / f'action-plan-{YEAR}.xlsx'}.\n"
        f"The local mail server received {received} emails; each is saved under {OUT / 'mail'}/.\n"
        f"The database of this rehearsal is {OUT / 'demo.db'}.\n"
        f"Every flow run, its logs and artifacts are kept in {PREFECT_HOME}/: to see them in the "
        f"Prefect UI, run 'PREFECT_HOME={PREFECT_HOME} .venv/bin/prefect server start' and "
        "open http://127.0.0.1:4200/runs."
    )


if __name__ == "__main__":
    sys.exit(main())
