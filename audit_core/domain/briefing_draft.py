"""A briefing's first draft, built from the audit day's record of each round in its scope.

:func:`build_briefing` takes plain values (the board's policy, the area, and for each
round its moderated cases and its findings) and gives the :class:`BriefingContent` the
business unit then edits:

1. the board's names, the briefing's title (``CHSCP Case Audits``) and the paragraph on
   the audit process, from ``board.briefing``;
2. for each round, in order, its moderated cases of the area, labelled ``Case 1``,
   ``Case 2`` ... across the whole briefing (never by reference), with the summary the
   audit day wrote; their agreed grades counted for the chart, every grade of the scale
   best first;
3. the round's findings that the audit day sent forward (``forward`` True) and that came
   from a case of the area: the strengths grouped by theme under the theme's name; one
   lesson per theme, its text the findings' texts as one paragraph, with the theme's
   practice prompt and its policy link, flagged recurring when a finding of it recurs.

Nothing here reads a database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from audit_core.domain.briefing import (
    BriefingContent,
    CaseSummary,
    GradeCount,
    Lesson,
    Link,
    RoundPart,
    Strength,
    StrengthGroup,
)
from audit_core.domain.models import FindingKind
from audit_core.domain.policy import BoardConfig, Theme


@dataclass(frozen=True)
class ModeratedCase:
    """One case of the area as the audit day agreed it (no reference: it is not printed)."""

    summary: str
    agreed_grade: str | None  # a grade id of the scale, or None if none was agreed


@dataclass(frozen=True)
class FindingRecord:
    """A moderated strength or lesson of a round, as the audit day left it."""

    kind: str  # FindingKind
    theme_id: str
    text: str
    key_phrase: str = ""
    case_refs: tuple[Mapping[str, Any], ...] = ()  # {"area": .., "ref": ..}
    forward: bool | None = None
    recurring: bool = False


@dataclass(frozen=True)
class RoundRecord:
    """One round of the scope: its id, its focus as printed, its period, and the audit
    day's record (cases of the area in the round's order; findings in their order)."""

    round_id: str
    focus_name: str
    period: str  # "January to June 2026"
    cases: tuple[ModeratedCase, ...]
    findings: tuple[FindingRecord, ...]


def build_briefing(
    config: BoardConfig,
    *,
    area_id: str,
    scope: str,
    period: str,
    rounds: Sequence[RoundRecord],
) -> BriefingContent:
    """The first draft of the area's briefing over ``rounds`` (in the scope's order)."""
    board = config.board
    parts, numbered = [], 0
    for record in rounds:
        parts.append(_round_part(config, area_id, record, first_case=numbered + 1))
        numbered += len(record.cases)
    return BriefingContent(
        board_name=board.name,
        board_short_name=board.short_name,
        title=f"{board.short_name} {board.briefing.title}",
        area_id=area_id,
        area_name=config.area(area_id).name,
        scope=scope,
        period=period,
        introduction="",
        process=board.briefing.process,
        rounds=tuple(parts),
    )


def _round_part(
    config: BoardConfig, area_id: str, record: RoundRecord, *, first_case: int
) -> RoundPart:
    ours = [f for f in record.findings if f.forward is True and from_area(f, area_id)]
    return RoundPart(
        round_id=record.round_id,
        heading=record.focus_name,
        period=record.period,
        cases=tuple(
            CaseSummary(label=f"Case {first_case + n}", summary=case.summary.strip())
            for n, case in enumerate(record.cases)
        ),
        strengths=strength_groups(config, [f for f in ours if f.kind == FindingKind.STRENGTH]),
        lessons=lessons(config, [f for f in ours if f.kind == FindingKind.LESSON]),
        grades=grade_counts(config, [c.agreed_grade for c in record.cases]),
    )


def from_area(finding: FindingRecord, area_id: str) -> bool:
    """Whether the finding came from a case of the area."""
    return any(ref.get("area") == area_id for ref in finding.case_refs)


def grade_counts(config: BoardConfig, agreed: Sequence[str | None]) -> tuple[GradeCount, ...]:
    """How many cases got each grade of the scale, every grade listed, the best first."""
    grades = sorted(config.scale.grades, key=lambda g: -g.score)
    return tuple(GradeCount(g.id, g.label, sum(1 for a in agreed if a == g.id)) for g in grades)


def _by_theme(findings: Sequence[FindingRecord]) -> dict[str, list[FindingRecord]]:
    """The findings under each theme, the themes in the order first met."""
    grouped: dict[str, list[FindingRecord]] = {}
    for finding in findings:
        grouped.setdefault(finding.theme_id, []).append(finding)
    return grouped


def strength_groups(
    config: BoardConfig, findings: Sequence[FindingRecord]
) -> tuple[StrengthGroup, ...]:
    return tuple(
        StrengthGroup(
            theme_id=theme_id,
            heading=_theme_name(config, theme_id),
            intro="",
            items=tuple(Strength(f.key_phrase.strip(), f.text.strip()) for f in found),
        )
        for theme_id, found in _by_theme(findings).items()
    )


def lessons(config: BoardConfig, findings: Sequence[FindingRecord]) -> tuple[Lesson, ...]:
    made = []
    for theme_id, found in _by_theme(findings).items():
        theme = _theme(config, theme_id)
        made.append(
            Lesson(
                theme_id=theme_id,
                heading=theme.name if theme else theme_id,
                text=" ".join(t for t in (f.text.strip() for f in found) if t),
                prompts=(theme.prompt.strip(),) if theme else (),
                links=(Link(theme.policy.title, theme.policy.url),)
                if theme and theme.policy
                else (),
                recurring=any(f.recurring for f in found),
            )
        )
    return tuple(made)


def _theme(config: BoardConfig, theme_id: str) -> Theme | None:
    """The theme of this id, or None if the configuration no longer has it."""
    return next((t for t in config.themes if t.id == theme_id), None)


def _theme_name(config: BoardConfig, theme_id: str) -> str:
    theme = _theme(config, theme_id)
    return theme.name if theme else theme_id
