"""A briefing's first draft, built from the audit day's record as plain values (no database)."""

from __future__ import annotations

from audit_core.domain.briefing import BriefingContent, GradeCount, Link, Strength
from audit_core.domain.briefing_draft import (
    FindingRecord,
    ModeratedCase,
    RoundRecord,
    build_briefing,
)
from audit_core.domain.policy import BoardConfig

HK = ({"area": "hackney", "ref": "HK-1"},)
CITY = ({"area": "city", "ref": "CL-1"},)


Refs = tuple[dict[str, str], ...]


def strength(
    theme: str, phrase: str, text: str, refs: Refs = HK, forward: bool | None = True
) -> FindingRecord:
    return FindingRecord("strength", theme, text, phrase, refs, forward)


def lesson(
    theme: str, text: str, refs: Refs = HK, forward: bool | None = True, recurring: bool = False
) -> FindingRecord:
    return FindingRecord("lesson", theme, text, "", refs, forward, recurring)


FIRST = RoundRecord(
    round_id="2026-H1",
    focus_name="Think Family",
    period="January to June 2026",
    cases=(
        ModeratedCase("Mother self-referred to early help for extra support.", "good"),
        ModeratedCase("The infant was placed on a child protection plan.", "requires-improvement"),
        ModeratedCase("A young carer known to school nursing.", "good"),
    ),
    findings=(
        strength("information-sharing", "a shared chronology", "Agencies shared a chronology."),
        lesson("voice-of-the-child", "The child's own words were not recorded."),
        strength("think-family", "whole family", "The adult team asked about the children."),
        strength("information-sharing", "same-day referral", "Police referred the same day."),
        lesson("voice-of-the-child", "Nobody asked the sibling.", recurring=True),
        lesson("think-family", "The mother's own needs were not assessed."),
        strength("think-family", "kept back", "Not for the briefing.", forward=False),
        lesson("thresholds", "Undecided, so left out.", forward=None),
        strength("multi-agency-working", "from the City", "A City case's strength.", refs=CITY),
    ),
)
SECOND = RoundRecord(
    round_id="2026-H2",
    focus_name="Early help",
    period="July to December 2026",
    cases=(ModeratedCase("A family supported by the multi-agency team.", None),),
    findings=(lesson("early-help", "Early help could have been offered sooner."),),
)


def drafted(config: BoardConfig, *rounds: RoundRecord) -> BriefingContent:
    return build_briefing(
        config, area_id="hackney", scope="2026-27", period="2026-27", rounds=list(rounds)
    )


def test_the_board_its_title_and_its_process_paragraph_head_the_briefing(
    config: BoardConfig,
) -> None:
    content = drafted(config, FIRST)
    assert content.board_name == "City & Hackney Safeguarding Children Partnership"
    assert content.title == "CHSCP Case Audits"
    assert (content.area_id, content.area_name) == ("hackney", "Hackney")
    assert content.process == config.board.briefing.process
    assert content.introduction == ""


def test_cases_are_labelled_case_1_to_n_across_the_rounds_in_order(config: BoardConfig) -> None:
    content = drafted(config, FIRST, SECOND)
    labels = [[c.label for c in part.cases] for part in content.rounds]
    assert labels == [["Case 1", "Case 2", "Case 3"], ["Case 4"]]
    assert content.rounds[0].cases[0].summary.startswith("Mother self-referred")
    assert "HK-1" not in str(content)  # a case is never named by its reference


def test_every_grade_of_the_scale_is_counted_best_first_even_when_none_was_given(
    config: BoardConfig,
) -> None:
    first, second = drafted(config, FIRST, SECOND).rounds
    assert first.grades == (
        GradeCount("outstanding", "Outstanding", 0),
        GradeCount("good", "Good", 2),
        GradeCount("requires-improvement", "Requires improvement", 1),
        GradeCount("inadequate", "Inadequate", 0),
    )
    assert [g.count for g in second.grades] == [0, 0, 0, 0]  # no grade agreed: none counted


def test_strengths_going_forward_from_the_area_are_grouped_by_theme_in_the_order_met(
    config: BoardConfig,
) -> None:
    part = drafted(config, FIRST).rounds[0]
    assert part.strengths_by_theme is True
    assert [(g.theme_id, g.heading) for g in part.strengths] == [
        ("information-sharing", "Information sharing"),
        ("think-family", "Think Family"),
    ]
    assert part.strengths[0].items == (
        Strength("a shared chronology", "Agencies shared a chronology."),
        Strength("same-day referral", "Police referred the same day."),
    )
    assert [i.key_phrase for i in part.strengths[1].items] == ["whole family"]  # not kept back


def test_a_lesson_per_theme_joins_its_texts_with_the_themes_prompt_and_policy(
    config: BoardConfig,
) -> None:
    lessons = drafted(config, FIRST).rounds[0].lessons
    assert [lesson.theme_id for lesson in lessons] == ["voice-of-the-child", "think-family"]
    voice = lessons[0]
    theme = config.theme("voice-of-the-child")
    assert voice.heading == "Voice of the child"
    assert voice.text == "The child's own words were not recorded. Nobody asked the sibling."
    assert voice.prompts == (theme.prompt,)
    assert theme.policy is not None
    assert voice.links == (Link(theme.policy.title, theme.policy.url),)
    assert voice.recurring is True and lessons[1].recurring is False


def test_findings_of_another_area_kept_back_or_undecided_stay_out(config: BoardConfig) -> None:
    part = drafted(config, FIRST).rounds[0]
    texts = str(part)
    assert "A City case's strength." not in texts
    assert "Not for the briefing." not in texts
    assert "Undecided" not in texts


def test_the_city_briefing_of_the_same_round_takes_the_citys_findings(
    config: BoardConfig,
) -> None:
    content = build_briefing(
        config, area_id="city", scope="2026-H1", period="January to June 2026", rounds=[FIRST]
    )
    assert content.area_name == "City of London"
    assert [g.heading for g in content.rounds[0].strengths] == ["Effective multi-agency working"]
    assert content.rounds[0].lessons == ()


def test_a_theme_no_longer_configured_keeps_its_id_as_heading_and_has_no_prompt(
    config: BoardConfig,
) -> None:
    findings = (lesson("retired-theme", "Something learnt."),)
    gone = RoundRecord("2026-H1", "Think Family", "January to June 2026", (), findings)
    [only] = drafted(config, gone).rounds[0].lessons
    assert (only.heading, only.prompts, only.links) == ("retired-theme", (), ())
