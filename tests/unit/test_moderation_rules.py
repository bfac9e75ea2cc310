"""The audit day's record as plain values: the sheet it starts from, its checks, and what
it still lacks (no database, no file)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from audit_core.domain.collation import Audit, CaseKey, Figures, collate_audits
from audit_core.domain.moderation import (
    MAX_SUMMARY,
    CaseRef,
    Sheet,
    SheetCase,
    SheetFinding,
    SheetRules,
    check_sheet,
    resolve,
    starting_sheet,
    still_missing,
    tidy,
)
from audit_core.domain.policy import AuditTool, Grade, Scale, Section, Theme
from audit_core.domain.returns import Entry, ReturnForm, SectionAnswer

SCALE = Scale(
    id="ofsted",
    name="Ofsted four-point scale",
    grades=(
        Grade(id="good", label="Good", score=3),
        Grade(id="inadequate", label="Inadequate", score=1),
    ),
)
TOOL = AuditTool(
    id="macfa",
    version=1,
    name="Tool",
    scale="ofsted",
    sections=(Section(id="overall", title="Overall"),),
)
THEMES = (
    Theme(id="information-sharing", name="Information sharing", prompt="?"),
    Theme(id="think-family", name="Think Family", prompt="?"),
)
HK1 = CaseKey("HK-1", "hackney", "Hackney")
CT1 = CaseKey("CT-1", "city", "City of London")
RULES = SheetRules(
    grades={"good": "Good", "inadequate": "Inadequate"},
    themes={"information-sharing": "Information sharing", "think-family": "Think Family"},
    agencies={"gp": "GP", "police": "Police", "csc": "Children's social care"},
    cases=(("city", "CT-1"), ("hackney", "HK-1"), ("hackney", "HK-2"), ("city", "HK-2")),
)


def audit(case: CaseKey, agency: str, form: ReturnForm | None) -> Audit:
    return Audit(
        case=case,
        agency_id=agency,
        agency_name=agency.upper(),
        auditor_id=None,
        auditor_name=None,
        due_on=dt.date(2026, 3, 30),
        state="sent",
        return_status="submitted" if form is not None else None,
        form=form,
    )


def figures() -> Figures:
    """HK-1: the GP and the police submitted; CT-1: children's social care, not in."""
    gp = ReturnForm(
        sections={"overall": SectionAnswer("good")},
        strengths=(Entry("information-sharing", "Shared at once.", "same day"),),
        lessons=(Entry("think-family", "The father was not seen."),),
    )
    police = ReturnForm(
        sections={"overall": SectionAnswer("inadequate")},
        strengths=(Entry("information-sharing", "Told the school.", "school told"),),
    )
    audits = [audit(HK1, "gp", gp), audit(HK1, "police", police), audit(CT1, "csc", None)]
    return collate_audits(TOOL, SCALE, THEMES, [CT1, HK1], audits)


def finding(kind: str = "lesson", **given: object) -> SheetFinding:
    values: dict[str, object] = {
        "theme_id": "think-family",
        "text": "The father was not seen.",
        "cases": (CaseRef("HK-1"),),
        "agencies": ("gp",),
    }
    return SheetFinding(kind, **(values | given))  # type: ignore[arg-type]


def sheet_of(*findings: SheetFinding, cases: tuple[SheetCase, ...] = ()) -> Sheet:
    return Sheet("2026-H1", cases, findings)


def problems(sheet: Sheet) -> dict[str, str]:
    return {p.location: p.reason for p in check_sheet(tidy(sheet), RULES, "2026-H1")}


# --- the sheet the audit day starts from -------------------------------------------------


def test_the_starting_sheet_has_every_case_and_every_finding_undecided() -> None:
    sheet = starting_sheet("2026-H1", figures(), {}, [])
    assert [(c.reference, c.agreed) for c in sheet.cases] == [
        ("CT-1", (None, "", "")),
        ("HK-1", (None, "", "")),
    ]
    assert [(a.agency_id, a.grades) for a in sheet.cases[1].agencies] == [
        ("gp", (("overall", "good"),)),
        ("police", (("overall", "inadequate"),)),
    ]
    assert [(f.kind, f.key_phrase, f.cases, f.agencies, f.forward) for f in sheet.findings] == [
        ("strength", "same day", (CaseRef("HK-1", "hackney"),), ("gp",), None),
        ("strength", "school told", (CaseRef("HK-1", "hackney"),), ("police",), None),
        ("lesson", "", (CaseRef("HK-1", "hackney"),), ("gp",), None),
    ]


def test_what_is_agreed_already_is_kept_in_the_starting_sheet() -> None:
    agreed = {("hackney", "HK-1"): ("good", "Sound joint work.", "A teenager.")}
    sheet = starting_sheet("2026-H1", figures(), agreed, [])
    assert sheet.cases[1].agreed == ("good", "Sound joint work.", "A teenager.")
    assert sheet.cases[0].agreed == (None, "", "")


def test_recorded_findings_replace_the_collated_ones_and_only_a_new_return_adds_to_them() -> None:
    merged = SheetFinding(
        "strength",
        "information-sharing",
        "Shared at once, and the school was told.",
        "shared the same day",
        (CaseRef("HK-1", "hackney"),),
        ("gp", "police"),
        True,
    )
    sheet = starting_sheet("2026-H1", figures(), {}, [merged])
    # the GP's lesson is of a kind, case and agency no recorded finding came from
    assert [(f.kind, f.key_phrase, f.forward) for f in sheet.findings] == [
        ("strength", "shared the same day", True),
        ("lesson", "", None),
    ]


# --- cleaning and checking ---------------------------------------------------------------


def test_text_is_tidied_and_an_empty_grade_is_none() -> None:
    sheet = tidy(
        sheet_of(
            finding(text="  Line one.\r\nLine two.\x07  ", agencies=(" gp ", "gp")),
            cases=(SheetCase(" HK-1 ", "hackney", agreed_grade="  "),),
        )
    )
    assert sheet.cases[0].reference == "HK-1" and sheet.cases[0].agreed_grade is None
    assert sheet.findings[0].text == "Line one.\nLine two."
    assert sheet.findings[0].agencies == ("gp",)


def test_a_sound_sheet_has_no_problem() -> None:
    cases = (SheetCase("HK-1", "hackney", "good", "Sound joint work.", "A teenager."),)
    strength = finding(
        "strength", theme_id="information-sharing", key_phrase="same day", forward=True
    )
    assert problems(sheet_of(strength, finding(forward=False), cases=cases)) == {}


def test_cases_must_be_the_rounds_once_each_with_a_grade_of_the_scale() -> None:
    found = problems(
        sheet_of(
            cases=(
                SheetCase("HK-1", "hackney", "goood"),
                SheetCase("HK-9", "hackney"),
                SheetCase("HK-1", "hackney"),
                SheetCase("HK-1", "city"),
            )
        )
    )
    assert found == {
        "cases[0].agreed_grade": "'goood' is not a grade of the scale (did you mean 'good'?); "
        "one of: good, inadequate",
        "cases[1].case": "case HK-9 in hackney is not in this round (its cases: CT-1 (city), "
        "HK-1 (hackney), HK-2 (hackney), HK-2 (city))",
        "cases[2].case": "case HK-1 is given twice (first at cases[0])",
        "cases[3].case": "case HK-1 in city is not in this round (its cases: CT-1 (city), "
        "HK-1 (hackney), HK-2 (hackney), HK-2 (city))",
    }


def test_text_over_its_limit_or_that_could_identify_a_child_is_refused() -> None:
    cases = (
        SheetCase("HK-1", "hackney", summary="x" * (MAX_SUMMARY + 1)),
        SheetCase("CT-1", "city", summary="Born 03/02/2015.", key_findings="Seen on 12/03/2026."),
        SheetCase("HK-2", "hackney", key_findings="NHS 943 476 5919 was on the letter."),
    )
    found = problems(sheet_of(cases=cases))
    assert found["cases[0].summary"] == "must be 1,000 characters or fewer (it has 1,001)"
    assert (
        "a date of birth" in found["cases[1].summary"] and "03/02" not in found["cases[1].summary"]
    )
    assert "cases[1].key_findings" not in found  # a date in the key findings is not printed
    assert "an NHS number" in found["cases[2].key_findings"]


def test_a_finding_needs_a_known_theme_its_text_and_cases_of_the_round() -> None:
    found = problems(
        sheet_of(
            finding(theme_id="", text="", cases=()),
            finding(
                theme_id="think-famly", cases=(CaseRef("HK-2"), CaseRef("XX-1")), agencies=("nhs",)
            ),
            finding(key_phrase="a phrase"),
        )
    )
    assert found == {
        "lessons[0].theme": "choose a theme: one of information-sharing, think-family",
        "lessons[0].text": "the finding's text is missing",
        "lessons[0].cases": "name the case (or cases) of the round the finding is about",
        "lessons[1].theme": "'think-famly' is not a theme of the taxonomy (did you mean "
        "'think-family'?); one of: information-sharing, think-family",
        "lessons[1].cases[0]": "case HK-2 is in this round in several areas (hackney, city): "
        "write it as area:reference, e.g. hackney:HK-2",
        "lessons[1].cases[1]": "case XX-1 is not in this round (its cases: CT-1 (city), "
        "HK-1 (hackney), HK-2 (hackney), HK-2 (city))",
        "lessons[1].agencies[0]": "'nhs' is not an agency; one of: gp, police, csc",
        "lessons[2].key_phrase": "a lesson has no key phrase",
    }


def test_a_strength_going_forward_needs_its_key_phrase_and_words_fit_to_print() -> None:
    kept_back = finding(
        "strength", theme_id="information-sharing", text="Seen on 12/03/2015.", forward=False
    )
    going = dataclasses.replace(kept_back, forward=True)
    assert problems(sheet_of(kept_back)) == {}
    found = problems(sheet_of(kept_back, going))
    assert set(found) == {"strengths[1].key_phrase", "strengths[1].text"}
    assert "needs its key phrase" in found["strengths[1].key_phrase"]
    assert "a date of birth" in found["strengths[1].text"]


def test_a_sheet_of_another_round_is_refused() -> None:
    found = check_sheet(Sheet("2025-H2", (), ()), RULES, "2026-H1")
    assert [(p.location, p.reason) for p in found] == [
        ("round", "this record is of round 2025-H2, not 2026-H1")
    ]


def test_resolving_fills_in_the_area_of_each_case_a_finding_names() -> None:
    sheet = resolve(sheet_of(finding(cases=(CaseRef("HK-1"), CaseRef("HK-2", "city")))), RULES)
    assert sheet.findings[0].cases == (CaseRef("HK-1", "hackney"), CaseRef("HK-2", "city"))


# --- completeness ------------------------------------------------------------------------


def test_what_is_still_missing_names_each_case_and_finding_in_order() -> None:
    cases = (
        SheetCase("CT-1", "city", "good", "Sound."),
        SheetCase("HK-1", "hackney", None, ""),
    )
    sheet = sheet_of(
        finding("strength", theme_id="information-sharing", key_phrase="same day", forward=True),
        finding(),
        cases=cases,
    )
    missing = still_missing(sheet, [("city", "CT-1"), ("hackney", "HK-1"), ("hackney", "HK-2")])
    assert [(m.location, m.what) for m in missing] == [
        ("cases[1].agreed_grade", "Case HK-1 (hackney) has no agreed grade."),
        ("cases[1].key_findings", "Case HK-1 (hackney) has no key findings."),
        ("cases", "Case HK-2 (hackney) has no agreed grade or key findings yet."),
        (
            "lessons[0].forward",
            "Lesson 'The father was not seen.' (think-family) is not decided: forward to the "
            "briefing, or not.",
        ),
    ]


def test_a_complete_record_lacks_nothing() -> None:
    cases = (SheetCase("HK-1", "hackney", "inadequate", "Late referral."),)
    assert still_missing(sheet_of(finding(forward=False), cases=cases)) == []
