"""A learning briefing's content, as plain values: what is drafted, edited, approved and issued.

A briefing speaks of **one area** over **one or more rounds** (a round, or a board
year of rounds): the City of London's one-round briefing and Hackney's two-round
year briefing are the same shape with one or two :class:`RoundPart`. Drafted from
the audit day's record (:mod:`audit_core.services.briefings`), edited as a file or in
the dashboard, rendered by the briefing renderer (a port), and stored as a version's
``content`` (:func:`audit_core.domain.briefing_edit.to_data`).

Nothing here may identify a child: the case summaries are the audit day's brief,
non-identifying summaries, labelled ``Case 1``, ``Case 2`` ... never by reference.
"""

from __future__ import annotations

from dataclasses import dataclass

LAYOUTS = ("briefing", "seven-minute")  # the full briefing; the one-page seven-minute one


@dataclass(frozen=True)
class Link:
    """A policy or guidance to read, printed under a lesson."""

    title: str
    url: str


@dataclass(frozen=True)
class Strength:
    """Good practice found: its key phrase is printed in bold (inside the text where the
    text holds it, else before it)."""

    key_phrase: str
    text: str


@dataclass(frozen=True)
class StrengthGroup:
    """The strengths of one theme: its heading, an optional line before the bullets."""

    theme_id: str
    heading: str
    intro: str
    items: tuple[Strength, ...]


@dataclass(frozen=True)
class Lesson:
    """A lesson (a key message) under its theme: what the audits found, the practice
    prompts put to practitioners ("Do you ...?"), and the policies to read.
    ``recurring``: the theme came back as a lesson in consecutive rounds (a well
    established finding)."""

    theme_id: str
    heading: str
    text: str
    prompts: tuple[str, ...]
    links: tuple[Link, ...]
    recurring: bool = False


@dataclass(frozen=True)
class CaseSummary:
    label: str  # "Case 1"
    summary: str


@dataclass(frozen=True)
class GradeCount:
    """How many cases the audit day gave one grade of the scale (for the chart)."""

    grade_id: str
    label: str
    count: int


@dataclass(frozen=True)
class RoundPart:
    """What one round of the scope contributes: its focus, cases, strengths and lessons."""

    round_id: str
    heading: str  # the round's focus as printed ("Think Family", "Early Help")
    period: str  # "January to June 2026"
    cases: tuple[CaseSummary, ...]
    strengths: tuple[StrengthGroup, ...]
    lessons: tuple[Lesson, ...]
    grades: tuple[GradeCount, ...]  # every grade of the scale, best first
    lessons_note: str = ""  # a line before the lessons (e.g. that more follow next year)
    strengths_by_theme: bool = True  # headed by theme (City) or one list of bullets (Hackney)


@dataclass(frozen=True)
class ActionProgress:
    """An action that came from a lesson of an earlier round of the area, and where it
    stands: the next briefing reports on it (carry-over). Its owner is named by agency
    only."""

    round_id: str  # the round whose lesson it came from
    theme_id: str
    heading: str  # the theme as printed
    text: str
    agency: str  # the owner's agency, by name
    due_on: str  # as printed: "14 November 2026"
    status: str  # open | in_progress | done | dropped
    rag: str  # red | amber | green
    progress: str = ""  # the latest update, in a line


@dataclass(frozen=True)
class BriefingContent:
    """Everything a briefing prints, for both layouts."""

    board_name: str
    board_short_name: str
    title: str  # "CHSCP Case Audits"
    area_id: str
    area_name: str
    scope: str  # "2026-H1", "2026-H1+2026-H2", "2026-27"
    period: str  # as printed: "2026-27", or "January to June 2026"
    introduction: str  # an optional opening line, printed in italics
    process: str  # the paragraph on the six-monthly multi-agency audit process
    rounds: tuple[RoundPart, ...]
    actions: tuple[ActionProgress, ...] = ()  # earlier rounds' actions, where they stand

    @property
    def foci(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.heading for r in self.rounds))

    @property
    def themes(self) -> tuple[str, ...]:
        """The headings of every theme the briefing speaks of, in the order first met."""
        seen: dict[str, None] = {}
        for part in self.rounds:
            for group in part.strengths:
                seen.setdefault(group.heading)
            for lesson in part.lessons:
                seen.setdefault(lesson.heading)
        return tuple(seen)
