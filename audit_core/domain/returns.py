"""An auditor's return: what the form holds, and the rules for saving and submitting it.

The form posts plain text fields. :func:`read_form` turns them into a
:class:`ReturnForm` and names every value it cannot take (a grade not on the
tool's scale, a theme not in the taxonomy, text over :data:`MAX_TEXT`): those
stop a save as well as a submission, and nothing typed is lost, because the page
shows the form again with the errors beside their fields.

:func:`still_missing` names what a submission needs and a draft may lack:

- every section of the audit tool graded;
- each strength with a theme and a short key phrase, and each lesson with a theme;
- an immediate safeguarding concern described.

Field names (the form and its error links share them): ``grade-<section>``,
``good-<section>``, ``develop-<section>``, ``recommend-<section>``,
``strength-<n>-theme|phrase|text``, ``lesson-<n>-theme|text`` (n from 1 to
:data:`ENTRIES`), ``concern`` and ``concern_text``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from audit_core.domain.policy import AuditTool

ENTRIES = 3  # strengths and lessons the form offers rows for
MAX_TEXT = 5_000  # characters in one free-text answer
MAX_PHRASE = 120  # characters in a strength's key phrase
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class SectionAnswer:
    grade: str | None = None
    good_practice: str = ""
    development: str = ""
    recommendations: str = ""

    @property
    def empty(self) -> bool:
        return not (self.grade or self.good_practice or self.development or self.recommendations)


@dataclass(frozen=True)
class Entry:
    """A strength (with its key phrase) or a lesson, tagged with a theme."""

    theme: str = ""
    text: str = ""
    key_phrase: str = ""

    @property
    def empty(self) -> bool:
        return not (self.theme or self.text or self.key_phrase)


@dataclass(frozen=True)
class ReturnForm:
    sections: Mapping[str, SectionAnswer] = field(default_factory=dict)
    strengths: tuple[Entry, ...] = ()
    lessons: tuple[Entry, ...] = ()
    concern: bool = False
    concern_text: str = ""

    def section(self, section_id: str) -> SectionAnswer:
        return self.sections.get(section_id, SectionAnswer())

    def strength(self, n: int) -> Entry:
        return self.strengths[n - 1] if n <= len(self.strengths) else Entry()

    def lesson(self, n: int) -> Entry:
        return self.lessons[n - 1] if n <= len(self.lessons) else Entry()


@dataclass(frozen=True)
class Problem:
    field: str  # the form field it belongs to (the error summary links to it)
    message: str


def clean(text: str | None) -> str:
    """Text as typed, minus control characters and surrounding space; line breaks kept."""
    text = unicodedata.normalize("NFC", text or "").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def read_form(
    tool: AuditTool,
    grades: Mapping[str, str],
    themes: Mapping[str, str],
    fields: Mapping[str, str],
) -> tuple[ReturnForm, list[Problem]]:
    """The form's answers, and the values it could not take (``grades``, ``themes``: id ->
    label). A refused value is kept in the form so the page can show it again."""
    problems: list[Problem] = []

    def text(name: str, label: str, most: int = MAX_TEXT) -> str:
        value = clean(fields.get(name))
        if len(value) > most:
            problems.append(Problem(name, f"{label} must be {most:,} characters or fewer."))
        return value

    def choice(name: str, label: str, allowed: Mapping[str, str]) -> str:
        value = clean(fields.get(name))
        if value and value not in allowed:
            problems.append(Problem(name, f"Choose {label} from the list."))
        return value

    sections = {}
    for section in tool.sections:
        s = section.id
        grade = choice(f"grade-{s}", f"a grade for {section.title}", grades)
        sections[s] = SectionAnswer(
            grade=grade or None,
            good_practice=text(f"good-{s}", "Good practice found"),
            development=text(f"develop-{s}", "Areas for development"),
            recommendations=text(f"recommend-{s}", "Recommendations"),
        )
    strengths = tuple(
        Entry(
            theme=choice(f"strength-{n}-theme", "the theme of strength {n}", themes),
            key_phrase=text(f"strength-{n}-phrase", f"The key phrase of strength {n}", MAX_PHRASE),
            text=text(f"strength-{n}-text", f"Strength {n}"),
        )
        for n in range(1, ENTRIES + 1)
    )
    lessons = tuple(
        Entry(
            theme=choice(f"lesson-{n}-theme", f"the theme of lesson {n}", themes),
            text=text(f"lesson-{n}-text", f"Lesson {n}"),
        )
        for n in range(1, ENTRIES + 1)
    )
    form = ReturnForm(
        sections=sections,
        strengths=strengths,
        lessons=lessons,
        concern=clean(fields.get("concern")) == "yes",
        concern_text=text("concern_text", "The description of the concern"),
    )
    return form, problems


def still_missing(tool: AuditTool, form: ReturnForm) -> list[Problem]:
    """What the return needs before it can be submitted (a draft may lack any of it)."""
    missing = [
        Problem(f"grade-{s.id}", f"Choose a grade for {s.title}.")
        for s in tool.sections
        if not form.section(s.id).grade
    ]
    for n, entry in enumerate(form.strengths, start=1):
        if entry.empty:
            continue
        if not entry.theme:
            missing.append(Problem(f"strength-{n}-theme", f"Choose a theme for strength {n}."))
        if not entry.key_phrase:
            missing.append(Problem(f"strength-{n}-phrase", f"Give strength {n} a key phrase."))
        if not entry.text:
            missing.append(Problem(f"strength-{n}-text", f"Describe strength {n}."))
    for n, entry in enumerate(form.lessons, start=1):
        if entry.empty:
            continue
        if not entry.theme:
            missing.append(Problem(f"lesson-{n}-theme", f"Choose a theme for lesson {n}."))
        if not entry.text:
            missing.append(Problem(f"lesson-{n}-text", f"Describe lesson {n}."))
    if form.concern and not form.concern_text:
        missing.append(Problem("concern_text", "Describe the immediate safeguarding concern."))
    return missing


# --- stored as JSON in audit_return ------------------------------------------------------


def to_stored(form: ReturnForm) -> dict[str, Any]:
    """The columns of ``audit_return`` for this form (empty rows left out)."""
    return {
        "answers": {
            s: {
                "grade": a.grade,
                "good_practice": a.good_practice,
                "development": a.development,
                "recommendations": a.recommendations,
            }
            for s, a in form.sections.items()
            if not a.empty
        },
        "strengths": [
            {"theme": e.theme, "key_phrase": e.key_phrase, "text": e.text}
            for e in form.strengths
            if not e.empty
        ],
        "lessons": [{"theme": e.theme, "text": e.text} for e in form.lessons if not e.empty],
        "immediate_concern": form.concern,
        "concern_text": form.concern_text or None,
    }


def from_stored(
    answers: Mapping[str, Any],
    strengths: list[Any],
    lessons: list[Any],
    concern: bool,
    concern_text: str | None,
) -> ReturnForm:
    """A stored return as the form shows it."""
    return ReturnForm(
        sections={
            s: SectionAnswer(
                grade=a.get("grade"),
                good_practice=a.get("good_practice", ""),
                development=a.get("development", ""),
                recommendations=a.get("recommendations", ""),
            )
            for s, a in answers.items()
        },
        strengths=tuple(
            Entry(e.get("theme", ""), e.get("text", ""), e.get("key_phrase", "")) for e in strengths
        ),
        lessons=tuple(Entry(e.get("theme", ""), e.get("text", "")) for e in lessons),
        concern=concern,
        concern_text=concern_text or "",
    )
