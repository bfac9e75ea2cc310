"""The board's two published briefings, built the way the business unit builds one.

For each round of an expected briefing (:mod:`support.seed_briefings`), :func:`seed_round`
plans a round in the area and launches it; its auditors answer through the return form's
use cases (:mod:`audit_core.services.returns`), each return carrying some of the round's
strengths (theme, key phrase, text) and lessons (theme, text); the returns close
(``round lock``); and the audit day is recorded through the moderation use case: the
agreed grades the briefing's chart shows, the case summaries, and every finding sent
forward in the order the briefing prints them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from audit_core.domain.briefing import RoundPart
from audit_core.domain.models import FindingKind
from audit_core.domain.moderation import SheetFinding
from audit_core.services import returns
from audit_core.services.launch import launch_round
from audit_core.services.moderation import record_audit_day, start_sheet
from audit_core.services.round_lock import start_moderation
from audit_core.services.unit_of_work import UnitOfWork
from support.collation import graded
from support.portal import known_tokens
from support.rounds import CaseSpec, planned_round

AUDITORS = {
    "city": (
        ("city-cft", ("eleanor-ashdown", "kwabena-owusu")),
        ("city-police", ("oliver-pemberton", "anjali-desai")),
    ),
    "hackney": (
        ("hackney-csc", ("amara-bello", "tomasz-wierzbicki", "rukhsana-begum")),
        ("met-police", ("sarah-chukwuma", "daniel-costa", "hannah-greenberg")),
    ),
}
PREFIX = {"city": "CL", "hackney": "HK"}
PER_RETURN = 3  # the form takes up to three strengths and three lessons


def agreed_grades(part: RoundPart) -> list[str]:
    """One agreed grade a case, as many cases of each grade as the briefing's chart shows."""
    return [g.grade_id for g in part.grades for _ in range(g.count)]


def seed_cases(area: str, count: int, first: int) -> tuple[CaseSpec, ...]:
    """``count`` cases of the area, each audited by its two agencies."""
    specs = []
    for n in range(count):
        auditors = {agency: people[n % len(people)] for agency, people in AUDITORS[area]}
        specs.append(CaseSpec(f"{PREFIX[area]}-{first + n:06d}", area, auditors))
    return tuple(specs)


def expected_findings(part: RoundPart) -> list[tuple[str, str, str, str]]:
    """The round's strengths then lessons, as (kind, theme, key phrase, text), in print order."""
    found = [
        (FindingKind.STRENGTH, group.theme_id, item.key_phrase, item.text)
        for group in part.strengths
        for item in group.items
    ]
    found += [(FindingKind.LESSON, lesson.theme_id, "", lesson.text) for lesson in part.lessons]
    return found


def _answers(part: RoundPart, slots: int) -> list[dict[str, str]]:
    """The strengths and lessons spread over ``slots`` returns, in turn."""
    fields: list[dict[str, str]] = [{} for _ in range(slots)]
    counts = [{"strength": 0, "lesson": 0} for _ in range(slots)]
    for n, (kind, theme, phrase, text) in enumerate(expected_findings(part)):
        slot = n % slots
        counts[slot][kind] += 1
        number = counts[slot][kind]
        assert number <= PER_RETURN, "too few returns for the round's findings"
        fields[slot][f"{kind}-{number}-theme"] = theme
        fields[slot][f"{kind}-{number}-text"] = text
        if kind == FindingKind.STRENGTH:
            fields[slot][f"{kind}-{number}-phrase"] = phrase
    return fields


def at(uow: UnitOfWork, when: dt.datetime) -> UnitOfWork:
    return dataclasses.replace(uow, now=when)


def seed_round(
    uow: UnitOfWork,
    part: RoundPart,
    *,
    round_id: str,
    focus: str,
    area: str,
    launched: dt.datetime,
    first_case: int = 1,
) -> None:
    """The round of ``part`` from planning to its audit day, recorded; committed."""
    session = uow.session
    grades = agreed_grades(part)
    cases = seed_cases(area, len(grades), first_case)
    planned_round(at(uow, launched), round_id=round_id, focus=focus, cases=cases)
    launch_round(at(uow, launched), round_id)
    session.commit()
    tokens = sorted(known_tokens(session, round_id).items())
    answered = at(uow, launched + dt.timedelta(days=14))
    for (_, token), fields in zip(tokens, _answers(part, len(tokens)), strict=True):
        outcome = returns.submit(answered, token, graded(uow.config, "good", **fields))
        assert outcome is not None and outcome.submitted, outcome and outcome.problems
        session.commit()
    day = at(uow, launched + dt.timedelta(days=42))
    start_moderation(day, round_id)
    session.commit()
    sheet = start_sheet(day, round_id)
    summaries = [c.summary for c in part.cases]
    agreed = tuple(
        dataclasses.replace(
            case,
            agreed_grade=grades[n],
            key_findings="The agencies agreed the grade after hearing each other's audits.",
            summary=summaries[n] if n < len(summaries) else "",
        )
        for n, case in enumerate(sheet.cases)
    )
    result = record_audit_day(
        day,
        round_id,
        dataclasses.replace(sheet, cases=agreed, findings=_forward(sheet.findings, part)),
    )
    assert result.moved_to_briefing, result.missing
    session.commit()


def _forward(findings: Sequence[SheetFinding], part: RoundPart) -> tuple[SheetFinding, ...]:
    """Every finding of the returns sent forward, in the order the briefing prints them."""
    order = {
        (kind, theme, text): n for n, (kind, theme, _, text) in enumerate(expected_findings(part))
    }
    assert len(findings) == len(order), "each finding of the returns is on the sheet once"
    ranked = sorted(findings, key=lambda f: order[(f.kind, f.theme_id, f.text)])
    return tuple(dataclasses.replace(f, forward=True) for f in ranked)
