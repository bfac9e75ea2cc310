"""Flow ``plan-round``: plan a round and publish the plan as a table artifact.

The rules live in :func:`audit_core.services.planning.plan_round`; this flow
gets a unit of work from the composition root (the database named by
``AUDITROUND_DATABASE_URL``, the configuration in ``AUDITROUND_CONFIG``),
plans the round in one transaction, and publishes one
row per selected case (stratum, rationale, auditors by agency) so the
business unit can review the plan in the Prefect UI.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from audit_core.bootstrap import App
from audit_core.domain.errors import AuditRoundError
from audit_core.services.planning import PlanResult, plan_round
from audit_core.services.round_view import RoundView, show_round

ACTOR = "flow:plan-round"


def run_plan(
    period: str,
    focus: str,
    areas: list[str] | None = None,
    cases: int | None = None,
    seed: int | None = None,
    launch_on: str | None = None,
    now: str | None = None,
) -> tuple[PlanResult, RoundView]:
    """Plan the round in one transaction and read back the plan for review."""
    try:
        launch = dt.date.fromisoformat(launch_on) if launch_on else None
    except ValueError:
        raise AuditRoundError(f"launch_on '{launch_on}' is not a date (use 2026-03-02).") from None
    app = App.from_env(now=now, actor=ACTOR)
    try:
        with app.unit_of_work() as uow:
            result = plan_round(
                uow,
                period=period,
                focus_id=focus,
                area_ids=areas,
                cases_per_area=cases,
                seed=seed,
                launch_on=launch,
            )
            view = show_round(uow, result.round_id)
    finally:
        app.close()
    return result, view


def plan_table(view: RoundView) -> list[dict[str, str]]:
    """One row per case: where it sits in the sample, why, and who audits it for whom."""
    by_case: dict[str, list[str]] = {}
    for a in view.assignments:
        by_case.setdefault(f"{a.area_id}/{a.case_ref}", []).append(
            f"{a.agency_id}: {a.auditor_id or 'UNFILLED'}"
        )
    return [
        {
            "case": c.reference,
            "area": c.area_id,
            "stratum": c.stratum,
            "why eligible": c.rationale,
            "auditors": "; ".join(sorted(by_case.get(f"{c.area_id}/{c.reference}", []))),
        }
        for c in view.cases
    ]


@flow(name="plan-round")
def plan_round_flow(
    period: str,
    focus: str,
    areas: list[str] | None = None,
    cases: int | None = None,
    seed: int | None = None,
    launch_on: str | None = None,
    now: str | None = None,
) -> dict[str, Any]:
    """Select the cases of ``period``'s round for ``focus``, assign auditors, publish the plan."""
    logger = get_run_logger()
    result, view = run_plan(period, focus, areas, cases, seed, launch_on, now)
    logger.info(
        "round %s planned: %d cases, %d of %d agency audits assigned, largest load %d, seed %d",
        result.round_id,
        result.cases,
        result.filled,
        result.slots,
        result.max_load,
        result.seed,
    )
    for warning in result.warnings:
        logger.warning(warning)
    create_table_artifact(
        table=plan_table(view),
        key=f"round-plan-{result.round_id.lower()}",
        description=(
            f"Round {result.round_id} ({view.focus_name}): {result.cases} cases, "
            f"{result.unfilled} agency audits without an auditor; launch "
            f"{result.timeline.launch_on:%d/%m/%Y}, returns due {result.timeline.due_on:%d/%m/%Y}."
        ),
    )
    return result.to_json()
