"""Rounds built for tests: planned (rows written directly, no planner), launched, delivered.

``planned_round`` writes a round as the planner leaves it, for tests about
what happens after planning; ``launched_round`` launches it (its emails queued
in the outbox, none sent); ``delivered_round`` does both and then dispatches
the outbox through the composition root, as the CLI does, to a sink.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from audit_core.adapters.smtp_sink import Received, Sink
from audit_core.bootstrap import App
from audit_core.domain.models import (
    Assignment,
    AssignmentStatus,
    AuditRound,
    CaseFile,
    CaseInvolvement,
    RoundCase,
    RoundStatus,
)
from audit_core.services import emails, outbox
from audit_core.services.launch import LaunchResult, launch_round, send_launch_summary
from audit_core.services.ports import Letter
from audit_core.services.reference import sync_reference_data
from audit_core.services.unit_of_work import UnitOfWork
from support import MAIL_FROM, PUBLIC_URL  # noqa: F401 - re-exported for the tests

LAUNCH_ON = dt.date(2026, 3, 2)
DUE_ON = dt.date(2026, 3, 30)
AUDIT_DAY_ON = dt.date(2026, 4, 15)


@dataclass(frozen=True)
class CaseSpec:
    reference: str
    area: str
    auditors: Mapping[str, str | None]  # agency id -> auditor id, or None when unfilled
    category: str = "child_in_need"
    age_band: str = "5-10"
    flags: Sequence[str] = ()
    practitioners: Mapping[str, Sequence[str]] = field(default_factory=dict)


DEFAULT_CASES = (
    CaseSpec(
        "HK-00123",
        "hackney",
        {"hackney-csc": "amara-bello", "met-police": "sarah-chukwuma", "gp": None},
    ),
    CaseSpec(
        "CT-00042", "city", {"city-cft": "eleanor-ashdown", "city-police": "oliver-pemberton"}
    ),
    CaseSpec("HK-00456", "hackney", {"health-visiting": "fatima-el-amin", "housing": None}),
)


def planned_round(
    uow: UnitOfWork,
    *,
    round_id: str = "2026-H1",
    focus: str = "think-family",
    cases: Sequence[CaseSpec] = DEFAULT_CASES,
) -> AuditRound:
    """A round in status ``planned`` with its cases and assignments, as the planner leaves it."""
    session, config, now = uow.session, uow.config, uow.now
    sync_reference_data(uow)
    audit_round = AuditRound(
        id=round_id,
        focus_id=focus,
        areas=sorted({c.area for c in cases}),
        status=RoundStatus.PLANNED,
        seed=1,
        cases_requested={a: sum(c.area == a for c in cases) for a in {c.area for c in cases}},
        audit_tool_id=config.audit_tool.id,
        audit_tool_version=config.audit_tool.version,
        launch_on=LAUNCH_ON,
        due_on=DUE_ON,
        audit_day_on=AUDIT_DAY_ON,
        briefing_due_on=dt.date(2026, 5, 14),
        planned_at=now,
        planned_by="test",
    )
    session.add(audit_round)
    for spec in cases:
        case = CaseFile(
            area_id=spec.area,
            reference=spec.reference,
            category=spec.category,
            age_band=spec.age_band,
            flags=list(spec.flags),
            last_activity_on=dt.date(2026, 1, 15),
            created_at=now,
            updated_at=now,
        )
        case.involvements = [
            CaseInvolvement(
                agency_id=agency, practitioner_ids=list(spec.practitioners.get(agency, ()))
            )
            for agency in spec.auditors
        ]
        session.add(case)
        session.flush()
        round_case = RoundCase(
            round_id=round_id,
            case_id=case.id,
            area_id=spec.area,
            stratum=spec.category,
            rationale="chosen for the test",
            selected_at=now,
        )
        round_case.assignments = [
            Assignment(
                agency_id=agency,
                auditor_id=auditor,
                status=AssignmentStatus.ASSIGNED if auditor else AssignmentStatus.UNFILLED,
                due_on=DUE_ON,
                updated_at=now,
            )
            for agency, auditor in spec.auditors.items()
        ]
        audit_round.cases.append(round_case)
    session.flush()
    return audit_round


def launched_round(uow: UnitOfWork, round_id: str = "2026-H1") -> LaunchResult:
    """Launch a planned round (its emails queued, not sent) and commit."""
    result = launch_round(uow, round_id)
    uow.session.commit()
    return result


def delivered_round(uow: UnitOfWork, app: App, sink: Sink, **planned: Any) -> list[Received]:
    """Plan (directly), launch and dispatch the round, then queue and send the launch summary
    (as ``App.launch`` does); every email the sink received."""
    round_id = planned.get("round_id", "2026-H1")
    planned_round(uow, **planned)
    launched_round(uow, round_id)
    result = app.dispatch()
    assert result.failed == 0 and result.retrying == 0
    send_launch_summary(uow, round_id)
    uow.session.commit()
    result = app.dispatch()
    assert result.failed == 0 and result.retrying == 0
    return sink.messages


def queue_notes(
    uow: UnitOfWork,
    count: int,
    *,
    prefix: str = "note",
    to: Sequence[str] = ("amara.bello@example.org",),
) -> list[outbox.Queued]:
    """Queue ``count`` small messages (the alert template with made-up content)."""
    drafts = [
        outbox.Draft(
            dedupe_key=f"{prefix}:{n}",
            kind=prefix,
            letter=Letter(
                template="outbox_alert",
                context={
                    "board_name": uow.config.board.name,
                    "business_unit": emails.business_unit(uow.config),
                    "failed": {
                        "id": n,
                        "kind": prefix,
                        "recipients": list(to),
                        "subject": f"{prefix} {n}",
                        "attempts": 0,
                        "error": "none",
                    },
                },
                to=list(to),
            ),
        )
        for n in range(count)
    ]
    return outbox.queue_many(uow, drafts)
