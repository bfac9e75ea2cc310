"""``make demo``: rehearse an audit round end to end on embedded defaults.

Everything runs locally: a fresh SQLite database under ``out/``, the example
City & Hackney configuration, the synthetic case register, and a loopback SMTP
server that saves every email it receives under ``out/mail/``. The clock is
fixed (``--now``) so that the rehearsal gives the same dates every time.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.console import Console

if TYPE_CHECKING:
    from audit_core.adapters.smtp_sink import Sink
    from audit_core.domain.workdays import Timeline

OUT = Path("out")
DEMO_NOW = "2026-04-13T09:00"  # planning happens the working day before launch
LAUNCH_NOW = "2026-04-14T09:00"  # the planned launch date
PERIOD = "2026-H1"
console = Console()


def run(title: str, args: Sequence[str]) -> None:
    """Run one auditround command in this process, as a coordinator would type it."""
    from audit_core.cli import app

    console.rule(f"[bold]{title}")
    console.print(f"[dim]$ auditround {' '.join(args)}[/]")
    code = app(list(args), standalone_mode=False)
    if isinstance(code, int) and code != 0:
        raise DemoStopped(f"'auditround {' '.join(args)}' failed (exit code {code}).")


def timeline() -> Timeline:
    """The round's dates, from its launch date and the board's cadence."""
    from audit_core.adapters.config import load_config
    from audit_core.domain.workdays import round_timeline

    cadence = load_config(Path(os.environ["AUDITROUND_CONFIG"])).cadence
    return round_timeline(dt.date.fromisoformat(LAUNCH_NOW[:10]), cadence)


def chase_days() -> list[dt.date]:
    """The working days on which the cadence has something to send for this round."""
    from audit_core.adapters.config import load_config
    from audit_core.domain.chasing import chase_steps

    cadence = load_config(Path(os.environ["AUDITROUND_CONFIG"])).cadence
    return [step.on for step in chase_steps(timeline().due_on, cadence)]


def at(day: dt.date, time: str) -> str:
    """``--now`` for a time of a day."""
    return f"{day.isoformat()}T{time}"


# What the simulated auditors do before each chase day's 08:00 run, by the day's place
# among the chase days: early (the first reminder), on the deadline, after the first escalation.
STAGES = {0: "early", 1: "due", 3: "late"}


def rehearse_fieldwork(sink: Sink) -> None:
    """The auditors answer through the portal (examples/auditors.py) while the chase runs on
    each of its days; a second run the same afternoon shows that nothing goes twice."""
    from audit_core.bootstrap import App
    from examples.auditors import Auditors, Clock, portal

    days = chase_days()
    zone = ZoneInfo("Europe/London")
    clock = Clock(dt.datetime.combine(days[0], dt.time(7, 30), zone))
    app = App(clock=clock)
    with portal(app) as base:
        auditors = Auditors(app.config(), base, sink)
        console.print(f"[dim]The portal is serving the auditors' links at {base}.[/]")
        for index, day in enumerate(days):
            if index in STAGES:
                clock.now = dt.datetime.combine(day, dt.time(7, 30), zone)
                done = auditors.visit(STAGES[index])
                console.rule(f"[bold]{day:%A %d %B}, before 08:00: the auditors, in the portal")
                console.print(", ".join(f"{n} {what}" for what, n in sorted(done.items())))
            if index == len(days) - 2:
                run(
                    "Fieldwork: what the chase would send today",
                    ["--now", f"{day}T08:00", "chase", "--dry-run"],
                )
            run(f"Fieldwork, {day:%A %d %B}: the day's chase", ["--now", f"{day}T08:00", "chase"])
        auditors.close()
    app.close()
    run(
        "The same day again, in the afternoon: nothing is sent twice",
        ["--now", f"{days[-1]}T16:00", "chase"],
    )


def audit_day_and_briefings() -> None:
    """The audit day recorded from its sheet, then each area's briefing drafted, approved
    by a second person and issued: the files under out/, the email through the outbox."""
    from examples.audit_day import fill_in

    dates = timeline()
    audit_day, issue_day = at(dates.audit_day_on, "10:00"), at(dates.briefing_due_on, "10:00")
    sheet = OUT / f"audit-day-{PERIOD}.yaml"
    run(
        "Before the audit day: the sheet to fill in, from the returns",
        ["--now", audit_day, "round", "moderate", PERIOD, str(sheet), "--start"],
    )
    fill_in(sheet)
    console.print(f"[dim]The meeting fills in {sheet}: grades, key findings, summaries.[/]")
    run(
        "The audit day recorded: the round moves to its briefing",
        ["--now", audit_day, "round", "moderate", PERIOD, str(sheet)],
    )
    for area in ("hackney", "city"):
        scope = ["--area", area, "--round", PERIOD]
        run(f"The {area} briefing drafted", ["--now", issue_day, "briefing", "draft", *scope])
        run(
            f"The {area} briefing approved by a second person",
            ["--now", issue_day, "--as", "demo:quality-lead", "briefing", "approve", *scope],
        )
        run(
            f"The {area} briefing issued",
            ["--now", issue_day, "briefing", "issue", *scope, "--out", str(OUT)],
        )


class DemoStopped(Exception):
    """A step of the rehearsal failed; the demo stops there."""


def main() -> int:
    from audit_core.adapters import smtp_sink
    from audit_core.domain.errors import AuditRoundError

    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "mail").mkdir(parents=True)
    os.environ["AUDITROUND_DATABASE_URL"] = f"sqlite:///{OUT / 'demo.db'}"
    os.environ.setdefault("AUDITROUND_CONFIG", "config")
    os.environ["AUDITROUND_NOW"] = DEMO_NOW
    os.environ.setdefault("AUDITROUND_ACTOR", "demo:business-unit")
    os.environ.setdefault("AUDITROUND_PUBLIC_URL", "http://127.0.0.1:8000")
    os.environ.setdefault("AUDITROUND_MAIL_FROM", "audits@chscp.example.org")

    with smtp_sink.running(save_dir=OUT / "mail") as sink:
        os.environ.update(sink.env())
        try:
            run("Create the database", ["db", "upgrade"])
            run("Check the configuration", ["config", "check"])
            run("Import the case register", ["cases", "import", "examples/case_register.csv"])
            run("The register by area and category", ["cases", "list"])
            run(
                "Plan a Think Family round across Hackney and the City",
                [
                    "round",
                    "plan",
                    "--focus",
                    "think-family",
                    "--areas",
                    "hackney,city",
                    "--period",
                    PERIOD,
                    "--seed",
                    "2026",
                ],
            )
            run("Review the plan before launch", ["round", "show", PERIOD])
            run(
                "Launch day: open the round and send the task emails through the outbox",
                ["--now", LAUNCH_NOW, "round", "launch", PERIOD],
            )
            run("The outbox after dispatch", ["--now", LAUNCH_NOW, "outbox", "status"])
            rehearse_fieldwork(sink)
            run(
                "After the last escalation: the returns close and the round moves to moderation",
                ["--now", at(chase_days()[-1], "17:00"), "round", "lock", PERIOD],
            )
            run(
                "The returns collated for the audit day",
                ["--now", at(chase_days()[-1], "17:00"), "round", "collate", PERIOD],
            )
            audit_day_and_briefings()
            run(
                "Every round at a glance",
                ["--now", at(timeline().briefing_due_on, "17:00"), "round", "list"],
            )
        except (AuditRoundError, DemoStopped) as exc:
            console.print(f"[bold red]Error:[/] {exc}")
            return 1
        received = sink.count

    console.rule("[bold]Done")
    console.print(
        f"The briefings (full and seven-minute, HTML and PDF) are under {OUT}/: "
        f"{', '.join(sorted(p.name for p in OUT.glob('briefing-*.pdf')))}.\n"
        f"The local mail server received {received} emails; each is saved under {OUT / 'mail'}/.\n"
        f"The database of this rehearsal is {OUT / 'demo.db'}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
