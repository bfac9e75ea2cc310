"""The rules of a return: what the form can take, and what a submission needs."""

from __future__ import annotations

import pytest
from support import CONFIG_DIR

from audit_core.adapters.config import load_config
from audit_core.domain.returns import (
    MAX_TEXT,
    ReturnForm,
    clean,
    from_stored,
    read_form,
    still_missing,
    to_stored,
)

CONFIG = load_config(CONFIG_DIR)
TOOL = CONFIG.audit_tool
GRADES = {g.id: g.label for g in CONFIG.scale.grades}
THEMES = {t.id: t.name for t in CONFIG.themes}


def read(**fields: str) -> tuple[ReturnForm, list[str]]:
    form, problems = read_form(TOOL, GRADES, THEMES, fields)
    return form, [p.field for p in problems]


def graded(**extra: str) -> dict[str, str]:
    return {f"grade-{s.id}": "good" for s in TOOL.sections} | extra


def test_an_empty_form_needs_every_section_graded_and_nothing_else() -> None:
    form, problems = read()
    assert problems == []
    assert [p.field for p in still_missing(TOOL, form)] == [f"grade-{s.id}" for s in TOOL.sections]


def test_a_fully_graded_form_needs_nothing_more() -> None:
    form, problems = read(**graded())
    assert problems == [] and still_missing(TOOL, form) == []


@pytest.mark.parametrize(
    ("fields", "refused"),
    [
        ({"grade-recognition": "excellent"}, "grade-recognition"),
        ({"strength-2-theme": "gossip"}, "strength-2-theme"),
        ({"lesson-1-text": "x" * (MAX_TEXT + 1)}, "lesson-1-text"),
        ({"strength-1-phrase": "y" * 121}, "strength-1-phrase"),
    ],
)
def test_a_value_off_the_list_or_too_long_is_refused_and_kept(
    fields: dict[str, str], refused: str
) -> None:
    form, problems = read(**fields)
    assert problems == [refused]
    assert to_stored(form) != to_stored(ReturnForm())  # what was typed is still there


def test_a_strength_needs_its_theme_and_key_phrase_and_a_lesson_its_theme() -> None:
    form, _ = read(**graded(**{"strength-1-text": "Good joint visits.", "lesson-3-text": "Late."}))
    assert [p.field for p in still_missing(TOOL, form)] == [
        "strength-1-theme",
        "strength-1-phrase",
        "lesson-3-theme",
    ]


def test_a_concern_must_be_described() -> None:
    form, _ = read(**graded(concern="yes"))
    assert [p.field for p in still_missing(TOOL, form)] == ["concern_text"]
    form, _ = read(**graded(concern="yes", concern_text="Seen alone with a new adult."))
    assert still_missing(TOOL, form) == []


def test_typed_text_loses_control_characters_but_keeps_its_lines() -> None:
    assert clean("  first\r\nsecond\x00\x1b  ") == "first\nsecond"


def test_a_return_round_trips_through_its_stored_columns() -> None:
    form, _ = read(
        **graded(
            **{
                "good-planning": "A clear plan.",
                "strength-1-theme": "information-sharing",
                "strength-1-phrase": "shared chronology",
                "strength-1-text": "Shared.",
                "lesson-2-theme": "voice-of-the-child",
                "lesson-2-text": "Ask the child.",
                "concern": "yes",
                "concern_text": "Now.",
            }
        )
    )
    stored = to_stored(form)
    again = from_stored(
        stored["answers"],
        stored["strengths"],
        stored["lessons"],
        stored["immediate_concern"],
        stored["concern_text"],
    )
    assert to_stored(again) == stored
    assert stored["lessons"] == [{"theme": "voice-of-the-child", "text": "Ask the child."}]
