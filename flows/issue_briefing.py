"""Flow ``issue-briefing``: issue an area's approved briefing and say where its files are.

:meth:`audit_core.bootstrap.App.issue_briefing` does the work, as ``auditround briefing
issue`` does: the latest version, approved, is rendered in both layouts, kept and
frozen, its files written to ``out``, its PDF emailed to the distribution list through
the outbox, and the rounds whose every area now has its briefing issued are closed.
Run again, it sends nothing and writes the files again.

The flow publishes a markdown report: what was issued (the title, area, period, scope,
version and what it corrects), who it was emailed to and where the files are. The
briefing is written to be shared, but the report still holds none of its text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from audit_core.bootstrap import App
from audit_core.domain.briefing_scope import parse_scope

if TYPE_CHECKING:
    from audit_core.adapters.dispatcher import DispatchResult
    from audit_core.services.briefings import IssuedBriefing

ACTOR = "flow:issue-briefing"


def run_issue(
    area: str,
    rounds: list[str] | None = None,
    year: str | None = None,
    out: str = "out",
    now: str | None = None,
) -> tuple[IssuedBriefing, list[Path], DispatchResult]:
    """Issue the briefing in one transaction, write its files, then send its email."""
    app = App.from_env(now=now, actor=ACTOR)
    try:
        return app.issue_briefing(area, parse_scope(rounds or (), year), Path(out))
    finally:
        app.close()


def report_markdown(issued: IssuedBriefing, files: list[Path], sent: DispatchResult) -> str:
    """What was issued, to whom, where the files are; none of the briefing's text."""
    v, content = issued.version, issued.version.content
    heading = f"# {content.title}: {content.area_name}, {content.period} (version {v.version})"
    if issued.already_issued:
        state = f"issued already, {v.issued_at:%d/%m/%Y %H:%M} UTC: nothing was sent again"
    else:
        state = f"issued {v.issued_at:%d/%m/%Y %H:%M} UTC by {v.issued_by}"
        if issued.corrects:
            state += f", correcting version {issued.corrects}"
    lines = [
        heading,
        "",
        f"- {state}",
        f"- scope: {v.scope} (rounds {', '.join(v.round_ids)})",
        f"- focus: {', '.join(content.foci)}",
        f"- approved by {v.approved_by}; written by {v.created_by}",
        f"- PDF SHA-256: `{v.pdf_sha256}`",
    ]
    if not issued.already_issued:
        lines.append(f"- emailed to: {', '.join(issued.recipients)} (sent {sent.sent})")
    lines += ["", "## Files", ""]
    lines += [f"- `{path.resolve()}`" for path in files]
    if issued.rounds_closed:
        lines += ["", "## Rounds closed", ""]
        lines += [f"- {rid}: every area's briefing is issued" for rid in issued.rounds_closed]
    return "\n".join(lines)


def artifact_key(area: str, scope: str) -> str:
    """A Prefect artifact key (lower-case letters, digits and dashes)."""
    return re.sub(r"[^a-z0-9-]+", "-", f"briefing-{area}-{scope}".lower())


@flow(name="issue-briefing")
def issue_briefing(
    area: str,
    rounds: list[str] | None = None,
    year: str | None = None,
    out: str = "out",
    now: str | None = None,
) -> dict[str, Any]:
    """Issue ``area``'s approved briefing of ``rounds`` (or of the board ``year``)."""
    logger = get_run_logger()
    issued, files, sent = run_issue(area, rounds, year, out, now)
    v = issued.version
    logger.info(
        "briefing %s %s version %d %s; %d file(s) in %s; sent %d, failed %d",
        v.area_id,
        v.scope,
        v.version,
        "was issued already" if issued.already_issued else "issued",
        len(files),
        out,
        sent.sent,
        sent.failed,
    )
    create_markdown_artifact(
        report_markdown(issued, files, sent),
        key=artifact_key(v.area_id, v.scope),
        description=f"Briefing {v.area_id} {v.scope}, version {v.version}",
    )
    return {
        **issued.to_json(),
        "files": [str(p) for p in files],
        "dispatch": {"sent": sent.sent, "failed": sent.failed},
    }
