"""The figures of a round's collation, worked out from plain values (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from audit_core.domain.collation import Audit, CaseKey, Figures, collate_audits, outstanding_state
from audit_core.domain.policy import AuditTool, Grade, Scale, Section, Theme
from audit_core.domain.returns import Entry, ReturnForm, SectionAnswer

SCALE = Scale(
    id="ofsted",
    name="Ofsted four-point scale",
    grades=(
        Grade(id="inadequate", label="Inadequate", score=1),  # listed worst first on purpose
        Grade(id="requires-improvement", label="Requires improvement", score=2),
        Grade(id="good", label="Good", score=3),
        Grade(id="outstanding", label="Outstanding", score=4),
    ),
)
TOOL = AuditTool(
    id="macfa",
    version=1,
    name="Tool",
    scale="ofsted",
    sections=(
        Section(id="recognition", title="Recognition of need and risk"),
        Section(id="voice", title="Voice of the child"),
    ),
)
THEMES = (
    Theme(id="information-sharing", name="Information sharing", prompt="?"),
    Theme(id="voice-of-the-child", name="Voice of the child", prompt="?"),
    Theme(id="think-family", name="Think Family", prompt="?"),
)
HK1 = CaseKey("HK-1", "hackney", "Hackney")
HK2 = CaseKey("HK-2", "hackney", "Hackney")
DUE = dt.date(2026, 3, 30)


def form(
    recognition: str | None,
    voice: str | None,
    *,
    strengths: tuple[Entry, ...] = (),
    lessons: tuple[Entry, ...] = (),
    concern: str = "",
) -> ReturnForm:
    return ReturnForm(
        sections={"recognition": SectionAnswer(recognition), "voice": SectionAnswer(voice)},
        strengths=strengths,
        lessons=lessons,
        concern=bool(concern),
        concern_text=concern,
    )


def audit(
    case: CaseKey,
    agency: str,
    given: ReturnForm | None = None,
    *,
    status: str | None = "submitted",
    state: str = "sent",
) -> Audit:
    return Audit(
        case=case,
        agency_id=agency,
        agency_name=agency.upper(),
        auditor_id=f"{agency}-auditor",
        auditor_name=f"Auditor of {agency}",
        due_on=DUE,
        state=state,
        return_status=status if given is not None else None,
        form=given,
    )


def collate(*audits: Audit, cases: tuple[CaseKey, ...] = (HK1, HK2)) -> Figures:
    return collate_audits(TOOL, SCALE, THEMES, cases, audits)


def test_each_section_counts_every_grade_of_the_scale_and_means_their_scores() -> None:
    figures = collate(
        audit(HK1, "csc", form("good", "outstanding")),
        audit(HK1, "police", form("inadequate", "good")),
        audit(HK2, "csc", form("good", None)),
    )
    recognition, voice = figures.by_section
    assert [g for g, _, _ in figures.grades] == [
        "outstanding",
        "good",
        "requires-improvement",
        "inadequate",
    ]
    assert dict(recognition.counts) == {
        "outstanding": 0,
        "good": 2,
        "requires-improvement": 0,
        "inadequate": 1,
    }
    assert (recognition.graded, recognition.mean) == (3, 2.33)  # (3 + 1 + 3) / 3
    assert (voice.graded, voice.mean) == (2, 3.5)  # an ungraded section is left out
    assert voice.to_json()["mean_score"] == 3.5


def test_the_grades_of_each_agency_are_counted_and_averaged_on_their_own() -> None:
    figures = collate(
        audit(HK1, "csc", form("good", "outstanding")),
        audit(HK2, "csc", form("requires-improvement", "good")),
        audit(HK1, "police", form("inadequate", "inadequate")),
    )
    assert [(a.agency_id, a.returns) for a in figures.by_agency] == [("csc", 2), ("police", 1)]
    csc, police = figures.by_agency
    assert [s.mean for s in csc.sections] == [2.5, 3.5]
    assert [s.mean for s in police.sections] == [1.0, 1.0]
    assert dict(csc.sections[0].counts)["requires-improvement"] == 1


def test_drafts_do_not_count_and_are_listed_as_not_received() -> None:
    draft = form("outstanding", "outstanding", concern="The child said she is afraid.")
    figures = collate(
        audit(HK1, "csc", form("good", "good")),
        audit(HK1, "police", draft, status="draft", state="draft"),
        audit(HK2, "csc", state="declined"),
    )
    assert figures.totals.to_json() == {
        "cases": 2,
        "assignments": 3,
        "submitted": 1,
        "not_received": 2,
    }
    assert [s.mean for s in figures.by_section] == [3.0, 3.0]
    assert [a.agency_id for a in figures.by_agency] == ["csc"]
    assert [(n.case_ref, n.agency_id, n.state) for n in figures.not_received] == [
        ("HK-1", "police", "draft"),
        ("HK-2", "csc", "declined"),
    ]
    assert [n.concern_in_draft for n in figures.not_received] == [True, False]
    assert figures.concerns == ()  # only a submitted return's concern is collated


def test_strengths_and_lessons_are_grouped_by_theme_the_most_frequent_first() -> None:
    shared = Entry("information-sharing", "Police and health shared within a day.", "same day")
    voice = Entry("voice-of-the-child", "Seen alone at every visit.", "seen alone")
    figures = collate(
        audit(HK1, "csc", form("good", "good", strengths=(voice,))),
        audit(
            HK1,
            "police",
            form(
                "good",
                "good",
                strengths=(shared,),
                lessons=(Entry("think-family", "Father not asked about."),),
            ),
        ),
        audit(HK2, "csc", form("good", "good", strengths=(shared, Entry()))),
    )
    assert [(g.theme_id, g.theme_name, g.count) for g in figures.strengths] == [
        ("information-sharing", "Information sharing", 2),
        ("voice-of-the-child", "Voice of the child", 1),
    ]
    first = figures.strengths[0].entries[0]
    assert (first.key_phrase, first.case_ref, first.agency_id, first.agency_name) == (
        "same day",
        "HK-1",
        "police",
        "POLICE",
    )
    [lesson_group] = figures.lessons
    assert lesson_group.to_json(strength=False)["entries"] == [
        {
            "text": "Father not asked about.",
            "case_ref": "HK-1",
            "area": "hackney",
            "agency": "police",
        }
    ]
    assert figures.strengths[1].to_json(strength=True)["entries"][0]["key_phrase"] == "seen alone"


def test_themes_of_equal_count_follow_the_taxonomy_and_an_unknown_theme_keeps_its_id() -> None:
    figures = collate(
        audit(HK1, "csc", form("good", "good", lessons=(Entry("retired-theme", "Old."),))),
        audit(HK1, "police", form("good", "good", lessons=(Entry("think-family", "New."),))),
        audit(HK2, "csc", form("good", "good", lessons=(Entry("information-sharing", "Late."),))),
    )
    assert [(g.theme_id, g.theme_name) for g in figures.lessons] == [
        ("information-sharing", "Information sharing"),
        ("think-family", "Think Family"),
        ("retired-theme", "retired-theme"),
    ]


def test_each_case_shows_its_agencies_grades_side_by_side() -> None:
    figures = collate(
        audit(HK1, "csc", form("good", "outstanding")),
        audit(HK1, "gp", state="unfilled"),
        audit(HK2, "police", form("inadequate", "requires-improvement")),
    )
    first, second = figures.cases
    assert (first.reference, first.area_name) == ("HK-1", "Hackney")
    assert [(c.agency_id, c.received, c.state, dict(c.grades)) for c in first.agencies] == [
        ("csc", True, "submitted", {"recognition": "good", "voice": "outstanding"}),
        ("gp", False, "unfilled", {"recognition": None, "voice": None}),
    ]
    assert [dict(c.grades) for c in second.agencies] == [
        {"recognition": "inadequate", "voice": "requires-improvement"}
    ]


def test_a_submitted_concern_is_collated_with_its_description() -> None:
    figures = collate(
        audit(HK1, "csc", form("good", "good")),
        audit(HK2, "police", form("good", "good", concern="Sibling not seen since January.")),
    )
    [concern] = figures.concerns
    assert (concern.case_ref, concern.agency_id, concern.auditor_name) == (
        "HK-2",
        "police",
        "Auditor of police",
    )
    assert concern.to_json()["description"] == "Sibling not seen since January."


def test_an_empty_round_has_no_means_and_nothing_to_group() -> None:
    figures = collate(cases=())
    assert figures.totals.to_json() == {
        "cases": 0,
        "assignments": 0,
        "submitted": 0,
        "not_received": 0,
    }
    assert [(s.graded, s.mean) for s in figures.by_section] == [(0, None), (0, None)]
    assert all(n == 0 for s in figures.by_section for _, n in s.counts)
    assert figures.by_agency == figures.cases == figures.strengths == figures.lessons == ()
    assert figures.not_received == figures.concerns == ()


def test_a_grade_or_section_from_an_older_tool_is_counted_but_not_scored() -> None:
    older = ReturnForm(
        sections={
            "recognition": SectionAnswer("adequate"),
            "voice": SectionAnswer("good"),
            "old-section": SectionAnswer("good"),
        }
    )
    figures = collate(audit(HK1, "csc", older), audit(HK1, "police", form("good", "good")))
    recognition, _, old = figures.by_section
    assert dict(recognition.counts)["adequate"] == 1
    assert (recognition.graded, recognition.mean) == (2, 3.0)
    assert (old.section_id, old.title, old.graded) == ("old-section", "old-section", 1)


@pytest.mark.parametrize(
    ("delivery", "opened", "draft", "reopened", "shown"),
    [
        ("unfilled", False, False, False, "unfilled"),
        ("declined", True, True, False, "declined"),
        ("failed", False, False, False, "failed"),
        ("queued", False, False, False, "queued"),
        ("sent", True, False, False, "opened"),
        ("sent", True, True, False, "draft"),
        ("sent", True, True, True, "reopened"),
    ],
)
def test_an_audit_not_received_shows_how_far_it_got(
    delivery: str, opened: bool, draft: bool, reopened: bool, shown: str
) -> None:
    assert outstanding_state(delivery, opened=opened, draft=draft, reopened=reopened) == shown
