"""Flow ``year-report``: the board year's report written as HTML and PDF, its figures published.

:meth:`audit_core.bootstrap.App.year_report` does the work, as ``auditround report year``
does: the rounds launched in the board year (of one area, or all), their grades and
themes over time, the actions by agency and the chase figures, written to ``out`` whole
or not at all; the reading is kept in the audit trail.

The flow publishes a markdown artifact of the year in figures and where the files are.
The report holds counts, means and theme names only, never a case or a person.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from audit_core.bootstrap import App

if TYPE_CHECKING:
    from audit_core.domain.year_report import YearReport

ACTOR = "flow:year-report"


def run_report(
    year: str, area: str | None = None, out: str = "out", now: str | None = None
) -> tuple[YearReport, list[Path]]:
    """The report read in one transaction and written to ``out``."""
    app = App.from_env(now=now, actor=ACTOR)
    try:
        return app.year_report(year, area, Path(out))
    finally:
        app.close()


def report_markdown(report: YearReport, files: list[Path]) -> str:
    """The year in figures, round by round, and the files written."""
    t = report.totals
    where = f": {report.area_name}" if report.area_name else ""
    lines = [
        f"# Year report {report.year}{where}",
        "",
        f"{report.first_day:%d %B %Y} to {report.last_day:%d %B %Y}: {t['rounds']} rounds, "
        f"{t['cases']} cases, {t['returns_submitted']} of {t['audits']} returns in.",
        "",
        "| round | focus | cases | on time | late | not in | escalated |",
        "|---|---|---|---|---|---|---|",
    ]
    for r, c in zip(report.rounds, report.chase, strict=True):
        lines.append(
            f"| {r.round_id} | {r.focus_name} | {r.cases} | {c.on_time} | {c.late} "
            f"| {c.not_in} | {c.escalated} |"
        )
    lines += [
        "",
        f"Actions from the year's lessons: {t['actions']} ({t['actions_done']} done, "
        f"{t['actions_open']} open, {t['actions_overdue']} of them overdue, "
        f"{t['actions_dropped']} dropped).",
        "",
        "Files:",
        *(f"- `{path.resolve()}`" for path in files),
    ]
    return "\n".join(lines)


def artifact_key(year: str, area: str | None) -> str:
    """A Prefect artifact key (lower-case letters, digits and dashes)."""
    return re.sub(r"[^a-z0-9-]+", "-", f"year-report-{year}-{area or 'all'}".lower())


@flow(name="year-report")
def year_report_flow(
    year: str, area: str | None = None, out: str = "out", now: str | None = None
) -> dict[str, Any]:
    """Write the board ``year``'s report (of ``area``, or every area) to ``out``."""
    logger = get_run_logger()
    report, files = run_report(year, area, out, now)
    t = report.totals
    logger.info(
        "year %s: %d rounds, %d cases, %d of %d returns in, %d actions; %d file(s) in %s",
        report.year,
        t["rounds"],
        t["cases"],
        t["returns_submitted"],
        t["audits"],
        t["actions"],
        len(files),
        out,
    )
    create_markdown_artifact(
        report_markdown(report, files),
        key=artifact_key(report.year, area),
        description=f"The year report {report.year}",
    )
    return {"totals": dict(t), "files": [str(p) for p in files]}
