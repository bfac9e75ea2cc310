"""Rounds at their briefing, for the tests of drafting, editing, approving and issuing.

:func:`briefing_round` plans a round (directly, :func:`support.rounds.planned_round`),
opens it and closes its returns through the round's own steps, then records its audit
day through :func:`audit_core.services.moderation.record_audit_day`, complete, so the
round moves to briefing as it does for the business unit. Nothing is emailed.

The default round (2026-H1, Think Family) has the cases of :mod:`support.rounds`:
HK-00123 and HK-00456 in Hackney, CT-00042 in the City of London. Its audit day agreed:

- HK-00123 good, HK-00456 requires improvement, CT-00042 outstanding;
- strengths going forward: information sharing ("a shared chronology" and "same-day
  referral", both HK-00123), Think Family ("whole-family assessment", CT-00042); one
  kept back (HK-00456);
- lessons going forward: voice of the child (HK-00123), engaging fathers (HK-00456),
  Think Family (CT-00042).

:data:`SECOND_CASES` is a second round's (HK-00777 in Hackney, CL-00088 in the City).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from audit_core.domain.models import AuditRound, FindingKind
from audit_core.domain.moderation import CaseRef, Sheet, SheetCase, SheetFinding
from audit_core.services.moderation import record_audit_day
from audit_core.services.unit_of_work import UnitOfWork
from support import LONDON
from support.rounds import DEFAULT_CASES, CaseSpec, planned_round

LAUNCHED_AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=LONDON)

SUMMARIES = {
    "HK-00123": "A parent with low mood cared for two children; the school raised concerns.",
    "HK-00456": "An infant known to health visiting; the father was rarely seen.",
    "CT-00042": "A family supported after the mother asked early help for extra support.",
    "HK-00777": "A young carer whose parent misused alcohol.",
    "CL-00088": "A child living with domestic abuse between the adults at home.",
}
GRADES = {
    "HK-00123": "good",
    "HK-00456": "requires-improvement",
    "CT-00042": "outstanding",
    "HK-00777": "good",
    "CL-00088": "good",
}
SECOND_CASES = (
    CaseSpec("HK-00777", "hackney", {"hackney-csc": "amara-bello"}),
    CaseSpec("CL-00088", "city", {"city-cft": "eleanor-ashdown"}),
)


def strength(theme: str, phrase: str, text: str, ref: str, forward: bool = True) -> SheetFinding:
    return SheetFinding(FindingKind.STRENGTH, theme, text, phrase, (CaseRef(ref),), (), forward)


def lesson(theme: str, text: str, ref: str, forward: bool = True) -> SheetFinding:
    return SheetFinding(FindingKind.LESSON, theme, text, "", (CaseRef(ref),), (), forward)


DEFAULT_FINDINGS = (
    strength(
        "information-sharing",
        "a shared chronology",
        "Health and police kept a shared chronology.",
        "HK-00123",
    ),
    strength(
        "information-sharing",
        "same-day referral",
        "The referral reached children's services the same day.",
        "HK-00123",
    ),
    strength(
        "think-family",
        "whole-family assessment",
        "The adult team asked about the children.",
        "CT-00042",
    ),
    strength(
        "partnership-with-parents",
        "kept back",
        "A strength the audit day kept in the record only.",
        "HK-00456",
        forward=False,
    ),
    lesson("voice-of-the-child", "The children's own words were not recorded.", "HK-00123"),
    lesson("engaging-fathers", "The father was not invited to the meetings.", "HK-00456"),
    lesson("think-family", "The mother's own needs were not assessed.", "CT-00042"),
)
SECOND_FINDINGS = (
    strength(
        "multi-agency-working",
        "well attended meetings",
        "Every agency came to the meetings.",
        "HK-00777",
    ),
    lesson("engaging-fathers", "Fathers were again left out of the plans.", "HK-00777"),
    lesson("domestic-abuse-safety-planning", "No safety plan covered the child.", "CL-00088"),
)


def briefing_round(
    uow: UnitOfWork,
    *,
    round_id: str = "2026-H1",
    cases: Sequence[CaseSpec] = DEFAULT_CASES,
    findings: Sequence[SheetFinding] = DEFAULT_FINDINGS,
    launched_at: dt.datetime = LAUNCHED_AT,
    focus: str = "think-family",
) -> AuditRound:
    """A round whose audit day is recorded and complete: it is at its briefing; committed."""
    audit_round = moderating_round(
        uow, round_id=round_id, cases=cases, launched_at=launched_at, focus=focus
    )
    result = record_audit_day(uow, round_id, audit_day(round_id, cases, findings))
    assert result.moved_to_briefing, result.missing
    uow.session.commit()
    return audit_round


def moderating_round(
    uow: UnitOfWork,
    *,
    round_id: str = "2026-H1",
    cases: Sequence[CaseSpec] = DEFAULT_CASES,
    launched_at: dt.datetime = LAUNCHED_AT,
    focus: str = "think-family",
) -> AuditRound:
    """A round launched (no email: its status moved on directly) whose returns are closed:
    in moderation, its audit day not recorded; committed."""
    audit_round = planned_round(uow, round_id=round_id, cases=cases, focus=focus)
    audit_round.open(launched_at)
    audit_round.start_moderation()
    uow.session.commit()
    return audit_round


def audit_day(round_id: str, cases: Sequence[CaseSpec], findings: Sequence[SheetFinding]) -> Sheet:
    """The complete audit day of a round: every case agreed, every finding decided."""
    return Sheet(
        round_id,
        tuple(
            SheetCase(
                c.reference,
                c.area,
                GRADES[c.reference],
                f"The meeting agreed the {c.area} case's grade.",
                SUMMARIES[c.reference],
            )
            for c in cases
        ),
        tuple(findings),
    )
