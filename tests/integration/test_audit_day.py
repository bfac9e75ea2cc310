"""Recording a round's audit day: the sheet it starts from, partial and complete records,
the checks, and the round moving on to its briefing (round: tests/support/collation.py,
with its returns closed)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support import LONDON
from support.collation import collation_round
from support.rounds import launched_round, planned_round
from support.trail import events

from audit_core.adapters.moderation_file import read_sheet, write_sheet
from audit_core.domain.errors import InvalidState
from audit_core.domain.models import (
    AuditRound,
    Briefing,
    BriefingStatus,
    CaseModeration,
    Finding,
    RoundStatus,
)
from audit_core.domain.moderation import CaseRef, Sheet, SheetCase, SheetFinding, SheetRejected
from audit_core.domain.policy import BoardConfig
from audit_core.services.moderation import record_audit_day, start_sheet
from audit_core.services.round_lock import start_moderation
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database
AUDIT_DAY = dt.datetime(2026, 4, 15, 14, 0, tzinfo=LONDON)


@pytest.fixture
def moderating(uow: UnitOfWork, session: Session) -> None:
    collation_round(uow, session)
    start_moderation(uow, "2026-H1")
    session.commit()


@pytest.fixture
def on_the_day(make_uow: Callable[..., UnitOfWork]) -> UnitOfWork:
    """Amara of the business unit, recording on the audit day."""
    return make_uow(actor="amara-bello", at=AUDIT_DAY)


def agreed(sheet: Sheet, grades: dict[str, str]) -> Sheet:
    """The sheet with these cases (reference -> grade) agreed, with key findings."""
    cases = tuple(
        dataclasses.replace(
            c,
            agreed_grade=grades[c.reference],
            key_findings=f"The agencies agreed on {c.reference}.",
            summary="A child of primary school age living with a parent with low mood.",
        )
        if c.reference in grades
        else c
        for c in sheet.cases
    )
    return dataclasses.replace(sheet, cases=cases)


def decided(sheet: Sheet, forward: bool = True) -> Sheet:
    findings = tuple(dataclasses.replace(f, forward=forward) for f in sheet.findings)
    return dataclasses.replace(sheet, findings=findings)


EVERY_CASE = {"CT-00042": "good", "HK-00123": "requires-improvement", "HK-00456": "good"}


def status(session: Session) -> str:
    session.expire_all()
    audit_round = session.get(AuditRound, "2026-H1")
    assert audit_round is not None
    return audit_round.status


def test_the_starting_sheet_holds_every_case_and_the_collated_findings_undecided(
    moderating: None, on_the_day: UnitOfWork, session: Session
) -> None:
    sheet = start_sheet(on_the_day, "2026-H1")
    assert [(c.reference, c.area_id, c.agreed_grade) for c in sheet.cases] == [
        ("CT-00042", "city", None),
        ("HK-00123", "hackney", None),
        ("HK-00456", "hackney", None),
    ]
    hk = sheet.cases[1]
    assert [(a.agency_id, a.state) for a in hk.agencies] == [
        ("gp", "unfilled"),
        ("hackney-csc", "submitted"),
        ("met-police", "submitted"),
    ]
    assert dict(hk.agencies[1].grades)["recognition"] == "outstanding"
    assert [(f.theme_id, f.key_phrase, f.cases, f.agencies) for f in sheet.strengths] == [
        (
            "information-sharing",
            "a shared chronology",
            (CaseRef("HK-00123", "hackney"),),
            ("hackney-csc",),
        ),
        (
            "information-sharing",
            "same-day referral",
            (CaseRef("HK-00123", "hackney"),),
            ("met-police",),
        ),
    ]
    assert [(f.theme_id, f.text) for f in sheet.lessons] == [
        ("voice-of-the-child", "The child's own words were not recorded."),
        ("think-family", "The mother's own needs were not assessed."),
    ]
    assert {f.forward for f in sheet.findings} == {None}
    session.commit()
    assert session.scalars(select(CaseModeration)).all() == []
    assert session.scalars(select(Finding)).all() == []
    assert [e.action for e in events(session, round_id="2026-H1")][-1] == "round_collated"


def test_a_partial_record_keeps_the_round_in_moderation_and_says_what_is_missing(
    moderating: None, on_the_day: UnitOfWork, session: Session
) -> None:
    sheet = agreed(start_sheet(on_the_day, "2026-H1"), {"HK-00123": "requires-improvement"})
    first, *others = sheet.findings
    sheet = dataclasses.replace(sheet, findings=(dataclasses.replace(first, forward=True), *others))
    result = record_audit_day(on_the_day, "2026-H1", sheet)
    session.commit()

    assert (result.status, result.moved_to_briefing) == ("moderation", False)
    assert result.cases_changed == ("HK-00123",)
    assert (result.forward, result.kept_back, result.undecided) == (1, 0, 3)
    assert [m.location for m in result.missing] == [
        "cases[0].agreed_grade",
        "cases[0].key_findings",
        "cases[2].agreed_grade",
        "cases[2].key_findings",
        "strengths[1].forward",
        "lessons[0].forward",
        "lessons[1].forward",
    ]
    assert result.missing[0].what == "Case CT-00042 (city) has no agreed grade."
    assert status(session) == RoundStatus.MODERATION
    [moderation] = session.scalars(select(CaseModeration)).all()
    assert (moderation.agreed_grade, moderation.moderated_by) == (
        "requires-improvement",
        "amara-bello",
    )
    assert moderation.moderated_at == AUDIT_DAY
    rows = session.scalars(select(Finding).order_by(Finding.position)).all()
    assert [(r.position, r.kind, r.forward) for r in rows] == [
        (0, "strength", True),
        (1, "strength", None),
        (2, "lesson", None),
        (3, "lesson", None),
    ]
    assert rows[0].case_refs == [{"area": "hackney", "ref": "HK-00123"}]
    assert rows[0].agencies == ["hackney-csc"]


def test_a_complete_record_moves_the_round_to_briefing(
    moderating: None, on_the_day: UnitOfWork, session: Session
) -> None:
    sheet = decided(agreed(start_sheet(on_the_day, "2026-H1"), EVERY_CASE))
    result = record_audit_day(on_the_day, "2026-H1", sheet)
    session.commit()
    assert (result.status, result.moved_to_briefing, result.missing) == ("briefing", True, ())
    assert status(session) == RoundStatus.BRIEFING
    moved = [e for e in events(session) if e.action == "round_moved_to_briefing"]
    assert [(e.actor, e.details) for e in moved] == [("amara-bello", {"cases": 3, "forward": 4})]


def test_the_audit_day_is_recorded_in_the_trail_with_counts_only(
    moderating: None, on_the_day: UnitOfWork, session: Session
) -> None:
    sheet = decided(agreed(start_sheet(on_the_day, "2026-H1"), EVERY_CASE), forward=False)
    record_audit_day(on_the_day, "2026-H1", sheet)
    session.commit()
    [recorded] = [e for e in events(session) if e.action == "audit_day_recorded"]
    assert (recorded.actor, recorded.object_type, recorded.object_id, recorded.round_id) == (
        "amara-bello",
        "audit_round",
        "2026-H1",
        "2026-H1",
    )
    assert recorded.details == {
        "cases": 3,
        "cases_changed": 3,
        "cases_agreed": 3,
        "findings": 4,
        "findings_replaced": True,
        "forward": 0,
        "kept_back": 4,
        "undecided": 0,
        "missing": 0,
    }


def test_recording_the_same_sheet_twice_changes_nothing_the_second_time(
    moderating: None, on_the_day: UnitOfWork, session: Session
) -> None:
    sheet = decided(agreed(start_sheet(on_the_day, "2026-H1"), EVERY_CASE))
    record_audit_day(on_the_day, "2026-H1", sheet)
    session.commit()
    before = len(events(session))
    again = record_audit_day(on_the_day, "2026-H1", sheet)
    session.commit()
    assert (again.changed, again.moved_to_briefing, again.status) == (False, False, "briefing")
    assert len(events(session)) == before


def test_the_sheet_started_again_keeps_the_audit_days_wording_and_decisions(
    moderating: None, on_the_day: UnitOfWork, session: Session
) -> None:
    sheet = agreed(start_sheet(on_the_day, "2026-H1"), {"HK-00123": "good"})
    chronology, _referral = sheet.strengths
    merged = dataclasses.replace(
        chronology,
        key_phrase="information shared within a day",
        text="Health, police and children's services shared what they knew within a day.",
        agencies=("hackney-csc", "met-police"),
        forward=True,
    )
    added = SheetFinding(
        "lesson",
        "escalation-and-challenge",
        "Nobody challenged the delay.",
        cases=(CaseRef("CT-00042"),),
    )
    sheet = dataclasses.replace(sheet, findings=(merged, *sheet.lessons, added))
    record_audit_day(on_the_day, "2026-H1", sheet)
    session.commit()

    again = start_sheet(on_the_day, "2026-H1")
    assert again.cases[1].agreed == (
        "good",
        "The agencies agreed on HK-00123.",
        sheet.cases[1].summary,
    )
    assert [(f.key_phrase, f.agencies, f.forward) for f in again.strengths] == [
        ("information shared within a day", ("hackney-csc", "met-police"), True)
    ]
    assert [f.theme_id for f in again.lessons] == [
        "voice-of-the-child",
        "think-family",
        "escalation-and-challenge",
    ]
    assert again.lessons[2].cases == (CaseRef("CT-00042", "city"),)  # its area found


def test_a_case_left_out_of_the_sheet_keeps_what_was_agreed(
    moderating: None, on_the_day: UnitOfWork, session: Session
) -> None:
    full = decided(agreed(start_sheet(on_the_day, "2026-H1"), EVERY_CASE))
    record_audit_day(on_the_day, "2026-H1", dataclasses.replace(full, cases=full.cases[:2]))
    session.commit()
    result = record_audit_day(
        on_the_day, "2026-H1", dataclasses.replace(full, cases=full.cases[2:])
    )
    assert result.cases_changed == ("HK-00456",)
    assert result.cases_agreed == 3 and result.moved_to_briefing


def test_bad_values_give_problems_with_their_key_paths_and_write_nothing(
    moderating: None, on_the_day: UnitOfWork, session: Session
) -> None:
    sheet = agreed(start_sheet(on_the_day, "2026-H1"), {"HK-00123": "excellent"})
    first, second, *lessons = sheet.findings
    sheet = dataclasses.replace(
        sheet,
        findings=(
            dataclasses.replace(first, theme_id="information-sharng"),
            dataclasses.replace(second, key_phrase="", forward=True),
            dataclasses.replace(lessons[0], cases=(CaseRef("HK-99999"),)),
            dataclasses.replace(lessons[1], text="Seen at home on 12/03/2015.", forward=True),
        ),
    )
    session.commit()
    before = len(events(session))
    with pytest.raises(SheetRejected) as rejected:
        record_audit_day(on_the_day, "2026-H1", sheet)
    session.rollback()
    found = {p.location: p.reason for p in rejected.value.problems}
    assert found["cases[1].agreed_grade"].startswith("'excellent' is not a grade of the scale")
    assert "did you mean 'information-sharing'?" in found["strengths[0].theme"]
    assert "needs its key phrase" in found["strengths[1].key_phrase"]
    assert found["lessons[0].cases[0]"].startswith("case HK-99999 is not in this round")
    assert "a date of birth" in found["lessons[1].text"] and "12/03" not in found["lessons[1].text"]
    assert "nothing was written" in str(rejected.value)
    assert session.scalars(select(CaseModeration)).all() == []
    assert session.scalars(select(Finding)).all() == []
    assert len(events(session)) == before


def test_a_sheet_of_another_round_is_refused(moderating: None, on_the_day: UnitOfWork) -> None:
    sheet = dataclasses.replace(start_sheet(on_the_day, "2026-H1"), round_id="2025-H2")
    with pytest.raises(SheetRejected, match="round: this record is of round 2025-H2, not 2026-H1"):
        record_audit_day(on_the_day, "2026-H1", sheet)


def test_an_open_round_has_no_audit_day_yet(uow: UnitOfWork) -> None:
    planned_round(uow)
    launched_round(uow)
    with pytest.raises(InvalidState, match="its audit day can be recorded only once its returns"):
        start_sheet(uow, "2026-H1")


def test_once_a_briefing_covering_the_round_is_issued_its_record_stays_as_issued(
    moderating: None, on_the_day: UnitOfWork, session: Session
) -> None:
    sheet = decided(agreed(start_sheet(on_the_day, "2026-H1"), EVERY_CASE))
    record_audit_day(on_the_day, "2026-H1", sheet)
    session.add(
        Briefing(
            area_id="hackney",
            scope="2026-27",
            round_ids=["2025-H2", "2026-H1"],
            version=1,
            status=BriefingStatus.ISSUED,
            content={},
            note="",
            created_at=AUDIT_DAY,
            created_by="amara-bello",
            issued_at=AUDIT_DAY + dt.timedelta(days=7),
            issued_by="amara-bello",
        )
    )
    session.commit()
    with pytest.raises(InvalidState, match=r"\(hackney, 2026-27\) was issued on 22/04/2026"):
        record_audit_day(on_the_day, "2026-H1", decided(sheet, forward=False))


# --- the file the business unit fills in (adapters.moderation_file) ------------------------

AWKWARD = (
    "yes",
    "null",
    "12345",
    "Said: 'not today' # twice",
    '- "quoted" and \\ backslashed',
    "  leading spaces, and a colon at the end:",
    "Café résumé, naïve, “curly”",
    "First line.\n\n  Indented second line.\nThird: with a colon.",
    "A long line " * 12,
)


def test_every_text_written_to_the_file_reads_back_the_same(
    config: BoardConfig, tmp_path: Path
) -> None:
    cases = tuple(
        SheetCase(f"HK-{n}", "hackney", "good" if n % 2 else None, text, text[::-1])
        for n, text in enumerate(AWKWARD)
    )
    findings = tuple(
        SheetFinding(
            kind,
            "information-sharing",
            text,
            key_phrase=text if kind == "strength" else "",
            cases=(CaseRef(f"HK-{n}"), CaseRef("CT-1", "city")),
            agencies=("gp", "met-police"),
            forward=(None, True, False)[n % 3],
        )
        for n, text in enumerate(AWKWARD)
        for kind in ("strength", "lesson")
    )
    sheet = Sheet("2026-H1", cases, findings)
    path = write_sheet(tmp_path / "day.yaml", sheet, config)
    back = read_sheet(path)
    assert back.cases == sheet.cases
    assert back.strengths == sheet.strengths and back.lessons == sheet.lessons


def test_a_file_of_the_wrong_shape_names_every_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "day.yaml"
    path.write_text(
        "round: 2026-H1\n"
        "case:\n"  # line 2: misspelt
        "  - case: HK-00123\n"
        "    area: hackney\n"
        "strengths:\n"
        "  - theme: information-sharing\n"
        "    text: 12\n"  # line 7
        "    cases: HK-00123\n"
        "    forward: perhaps\n"  # line 9
        "lessons:\n"
        "  - theme: think-family\n"
        "    key_phrase: a phrase\n"  # line 12
        "    cases: [CT-00042, {city: CT-00042}]\n"  # line 13
    )
    with pytest.raises(SheetRejected) as rejected:
        read_sheet(path)
    assert [str(p) for p in rejected.value.problems] == [
        f"{path}: cases: required key is missing",  # no line: first
        f"{path}: case (line 2): unknown key (did you mean 'cases'?); expected one of: "
        "round, cases, strengths, lessons",
        f"{path}: strengths[0].text (line 7): expected text, not a number (put it in quotes)",
        f"{path}: strengths[0].forward (line 9): expected yes or no, or nothing while it is "
        "not decided",
        f"{path}: lessons[0].text (line 11): required key is missing",
        f"{path}: lessons[0].key_phrase (line 12): a lesson has no key phrase (only strengths do)",
        f"{path}: lessons[0].cases[1] (line 13): expected text, not a mapping",
    ]


def test_an_empty_file_or_none_at_all_is_named(tmp_path: Path) -> None:
    with pytest.raises(SheetRejected, match=r"day\.yaml: the file does not exist"):
        read_sheet(tmp_path / "day.yaml")
    (tmp_path / "day.yaml").write_text("# nothing yet\n")
    with pytest.raises(SheetRejected, match=r"day\.yaml: the file is empty"):
        read_sheet(tmp_path / "day.yaml")
