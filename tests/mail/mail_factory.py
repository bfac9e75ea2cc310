"""Rows for mail tests: a planned round built directly (no planner), and plain queued messages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from audit_core import outbox
from audit_core.config import BoardConfig
from audit_core.models import (
    Assignment,
    AssignmentStatus,
    AuditRound,
    CaseFile,
    CaseInvolvement,
    OutboxMessage,
    RoundCase,
    RoundStatus,
)
from audit_core.reference import sync_reference_data

MAIL_FROM = "CHSCP Case Audits <case-audits@chscp.example.org>"
PUBLIC_URL = "https://audits.chscp.example.org"

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
    session: Session,
    config: BoardConfig,
    now: dt.datetime,
    *,
    round_id: str = "2026-H1",
    focus: str = "think-family",
    cases: Sequence[CaseSpec] = DEFAULT_CASES,
) -> AuditRound:
    """A round in status ``planned`` with its cases and assignments, as the planner leaves it."""
    sync_reference_data(session, config, now=now, actor="test")
    audit_round = AuditRound(
        id=round_id,
        focus_id=focus,
        areas=sorted({c.area for c in cases}),
        status=RoundStatus.PLANNED,
        seed=1,
        cases_requested=len(cases),
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


def queue_notes(
    session: Session,
    config: BoardConfig,
    now: dt.datetime,
    count: int,
    *,
    prefix: str = "note",
    to: Sequence[str] = ("amara.bello@example.org",),
) -> list[OutboxMessage]:
    """Queue ``count`` small messages (the alert template with made-up content)."""
    unit = config.board.business_unit
    messages = []
    for n in range(count):
        draft = outbox.Draft(
            dedupe_key=f"{prefix}:{n}",
            kind=prefix,
            template="outbox_alert",
            context={
                "board_name": config.board.name,
                "business_unit": {"name": unit.name, "email": unit.email, "phone": unit.phone},
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
        )
        messages.append(
            outbox.queue(session, draft, mail_from=MAIL_FROM, now=now, actor="test").message
        )
    return messages
