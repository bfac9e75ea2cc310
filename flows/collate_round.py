"""Flow ``collate-round``: collate a round's returns and publish a short report of them.

The figures come from :func:`audit_core.services.collation.collate` (its rules in
:mod:`audit_core.domain.collation`), run in one transaction through the composition
root; the collation is recorded in the audit trail like the command's. The flow
publishes a markdown report (totals, themes counted, returns not received, concerns by
case and agency) and a table of the grades by section.

What the artifacts leave out on purpose: the descriptions of immediate concerns (for the
business unit only) and the free text of every return. Whoever can see the Prefect
server sees the artifacts; ``auditround round collate`` shows the rest.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from audit_core.bootstrap import App
from audit_core.services.collation import Collation, collate

ACTOR = "flow:collate-round"


def run_collation(round_id: str, now: str | None = None) -> Collation:
    """Collate the round in one transaction (the reading is recorded)."""
    app = App.from_env(now=now, actor=ACTOR)
    try:
        with app.unit_of_work() as uow:
            return collate(uow, round_id)
    finally:
        app.close()


def grades_table(collation: Collation) -> list[dict[str, Any]]:
    """One row per section of the audit tool: how many returns gave each grade, and the mean."""
    f = collation.figures
    rows = []
    for section in f.by_section:
        counts = dict(section.counts)
        row: dict[str, Any] = {"section": section.title}
        row |= {label: counts.get(grade_id, 0) for grade_id, label, _ in f.grades}
        row |= {"graded": section.graded, "mean score": section.mean}
        rows.append(row)
    return rows


def report_markdown(collation: Collation) -> str:
    """A short report: totals, themes with counts, what is not in, where concerns were raised."""
    f, t = collation.figures, collation.figures.totals
    lines = [
        f"# Round {collation.round_id} collated ({collation.focus_name})",
        "",
        f"- status: {collation.status}",
        f"- cases: {t.cases}; agency audits: {t.assignments}",
        f"- returns submitted: {t.submitted}; not received: {t.not_received}",
        f"- immediate concerns raised: {len(f.concerns)}",
        "",
    ]
    for title, groups in (("Strengths by theme", f.strengths), ("Lessons by theme", f.lessons)):
        lines += [f"## {title}", ""]
        lines += [f"- {g.theme_name}: {g.count}" for g in groups] or ["- none"]
        lines.append("")
    lines += ["## Not received", ""]
    lines += [
        f"- {n.case_ref} ({n.area_id}), {n.agency_name}: {n.state}" for n in f.not_received
    ] or ["- none: every return is in"]
    lines += ["", "## Immediate concerns", ""]
    lines += [f"- {c.case_ref} ({c.area_id}), {c.agency_name}" for c in f.concerns] or ["- none"]
    if f.concerns:
        lines += ["", "Their descriptions are for the business unit only (`round collate`)."]
    return "\n".join(lines)


@flow(name="collate-round")
def collate_round(round_id: str, now: str | None = None) -> dict[str, Any]:
    """Collate ``round_id``'s submitted returns and publish the report and the grades."""
    logger = get_run_logger()
    collation = run_collation(round_id, now)
    t = collation.figures.totals
    logger.info(
        "round %s collated: %d of %d return(s) submitted, %d not received, %d concern(s)",
        collation.round_id,
        t.submitted,
        t.assignments,
        t.not_received,
        len(collation.figures.concerns),
    )
    key = collation.round_id.lower()
    create_markdown_artifact(
        report_markdown(collation),
        key=f"collation-{key}",
        description=f"Collation of round {collation.round_id}",
    )
    create_table_artifact(
        grades_table(collation),
        key=f"collation-grades-{key}",
        description=f"Round {collation.round_id}: grades by section ({t.submitted} returns)",
    )
    summary = collation.to_json()
    return {k: summary[k] for k in ("round", "status", "totals", "grades_by_section")}
