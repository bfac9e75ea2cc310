"""Collating a round: the figures the audit day starts from, worked out from plain values.

:func:`collate_audits` takes every agency's audit of every case of a round, each with
its return (if one was saved), and gives:

- the grades of each section of the audit tool: how many returns gave each grade, and
  the mean score (the scale's ``score`` of each grade; higher is better), over all
  returns and per agency;
- each case's grades side by side, agency by agency;
- the strengths and lessons grouped by theme, the most frequent theme first;
- the audits whose return is not in, with the state each is in;
- the immediate safeguarding concerns raised, with their descriptions;
- the totals: cases, audits, returns submitted, returns not received.

Only a submitted return counts: a draft (or a submitted return reopened for its auditor
to correct, which is a draft again) is not received yet. Nothing here reads a database.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from audit_core.domain.models import ReturnStatus
from audit_core.domain.policy import AuditTool, Scale, Theme
from audit_core.domain.returns import Entry, ReturnForm

NO_THEME = "No theme"


# --- what collation reads ------------------------------------------------------------------


@dataclass(frozen=True)
class CaseKey:
    """A case of the round, by pseudonymous reference within its area."""

    reference: str
    area_id: str
    area_name: str = ""


@dataclass(frozen=True)
class Audit:
    """One agency's audit of one case, and its return as saved (if any)."""

    case: CaseKey
    agency_id: str
    agency_name: str
    auditor_id: str | None
    auditor_name: str | None
    due_on: dt.date
    state: str  # what an audit not received shows (see :func:`outstanding_state`)
    return_status: str | None = None  # draft | submitted; None: nothing saved
    form: ReturnForm | None = None

    @property
    def received(self) -> bool:
        return self.return_status == ReturnStatus.SUBMITTED and self.form is not None


def outstanding_state(delivery: str, *, opened: bool, draft: bool, reopened: bool) -> str:
    """The state of an audit whose return is not in: its delivery state (unfilled, assigned,
    queued, sent, failed, declined), or how far its auditor got once the task is out."""
    if delivery not in ("queued", "sent"):
        return delivery
    if reopened:
        return "reopened"  # submitted, then opened again for its auditor to correct
    if draft:
        return "draft"
    return "opened" if opened else delivery


# --- what collation gives ------------------------------------------------------------------


@dataclass(frozen=True)
class SectionGrades:
    """The grades one section of the audit tool was given."""

    section_id: str
    title: str
    counts: tuple[tuple[str, int], ...]  # (grade id, returns), every grade of the scale
    graded: int  # returns that graded this section
    mean: float | None  # mean score, to two places; None when no grade has a score

    def to_json(self) -> dict[str, Any]:
        return {
            "section": self.section_id,
            "title": self.title,
            "counts": dict(self.counts),
            "graded": self.graded,
            "mean_score": self.mean,
        }


@dataclass(frozen=True)
class AgencyGrades:
    agency_id: str
    agency_name: str
    returns: int
    sections: tuple[SectionGrades, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "agency": self.agency_id,
            "name": self.agency_name,
            "returns": self.returns,
            "sections": [s.to_json() for s in self.sections],
        }


@dataclass(frozen=True)
class AgencyColumn:
    """One agency's grades of one case (empty while its return is not in)."""

    agency_id: str
    agency_name: str
    received: bool
    state: str  # "submitted", or the state of the audit not received
    grades: tuple[tuple[str, str | None], ...]  # (section id, grade id or None)

    def to_json(self) -> dict[str, Any]:
        return {
            "agency": self.agency_id,
            "name": self.agency_name,
            "received": self.received,
            "state": self.state,
            "grades": dict(self.grades),
        }


@dataclass(frozen=True)
class CaseGrades:
    reference: str
    area_id: str
    area_name: str
    agencies: tuple[AgencyColumn, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "case_ref": self.reference,
            "area": self.area_id,
            "agencies": [a.to_json() for a in self.agencies],
        }


@dataclass(frozen=True)
class FindingLine:
    """A strength or a lesson as one auditor wrote it."""

    text: str
    key_phrase: str  # strengths only; "" for a lesson
    case_ref: str
    area_id: str
    agency_id: str
    agency_name: str

    def to_json(self, *, strength: bool) -> dict[str, Any]:
        found: dict[str, Any] = {"text": self.text}
        if strength:
            found["key_phrase"] = self.key_phrase
        return found | {"case_ref": self.case_ref, "area": self.area_id, "agency": self.agency_id}


@dataclass(frozen=True)
class ThemeGroup:
    theme_id: str
    theme_name: str
    entries: tuple[FindingLine, ...]

    @property
    def count(self) -> int:
        return len(self.entries)

    def to_json(self, *, strength: bool) -> dict[str, Any]:
        return {
            "theme": self.theme_id,
            "name": self.theme_name,
            "count": self.count,
            "entries": [e.to_json(strength=strength) for e in self.entries],
        }


@dataclass(frozen=True)
class NotReceived:
    case_ref: str
    area_id: str
    agency_id: str
    agency_name: str
    auditor_id: str | None
    auditor_name: str | None
    state: str
    due_on: dt.date
    concern_in_draft: bool = False  # its draft describes an immediate concern (alerted)

    def to_json(self) -> dict[str, Any]:
        return {
            "case_ref": self.case_ref,
            "area": self.area_id,
            "agency": self.agency_id,
            "auditor": self.auditor_id,
            "state": self.state,
            "due_on": self.due_on.isoformat(),
            "concern_in_draft": self.concern_in_draft,
        }


@dataclass(frozen=True)
class Concern:
    """An immediate safeguarding concern: its description is for the business unit only."""

    case_ref: str
    area_id: str
    agency_id: str
    agency_name: str
    auditor_id: str | None
    auditor_name: str | None
    description: str

    def to_json(self) -> dict[str, Any]:
        return {
            "case_ref": self.case_ref,
            "area": self.area_id,
            "agency": self.agency_id,
            "auditor": self.auditor_id,
            "description": self.description,
        }


@dataclass(frozen=True)
class Totals:
    cases: int
    assignments: int
    submitted: int
    not_received: int

    def to_json(self) -> dict[str, int]:
        return {
            "cases": self.cases,
            "assignments": self.assignments,
            "submitted": self.submitted,
            "not_received": self.not_received,
        }


@dataclass(frozen=True)
class Figures:
    """Everything collated from a round's returns."""

    grades: tuple[tuple[str, str, int], ...]  # the scale: (grade id, label, score), best first
    by_section: tuple[SectionGrades, ...]
    by_agency: tuple[AgencyGrades, ...]
    cases: tuple[CaseGrades, ...]
    strengths: tuple[ThemeGroup, ...]
    lessons: tuple[ThemeGroup, ...]
    not_received: tuple[NotReceived, ...]
    concerns: tuple[Concern, ...]
    totals: Totals


# --- the computation -----------------------------------------------------------------------


def collate_audits(
    tool: AuditTool,
    scale: Scale,
    themes: Sequence[Theme],
    cases: Sequence[CaseKey],
    audits: Sequence[Audit],
) -> Figures:
    """The round's figures from its cases and audits (in the order they are to be shown)."""
    received = [a for a in audits if a.received]
    sections = _sections(tool, received)
    grades = tuple(sorted(((g.id, g.label, g.score) for g in scale.grades), key=lambda g: -g[2]))
    return Figures(
        grades=grades,
        by_section=tuple(_section_grades(sections, grades, received)),
        by_agency=_by_agency(sections, grades, received),
        cases=tuple(_side_by_side(cases, audits, [s for s, _ in sections])),
        strengths=_by_theme(themes, received, lambda f: f.strengths),
        lessons=_by_theme(themes, received, lambda f: f.lessons),
        not_received=tuple(_not_received(a) for a in audits if not a.received),
        concerns=tuple(_concern(a) for a in received if _form(a).concern),
        totals=Totals(
            cases=len(cases),
            assignments=len(audits),
            submitted=len(received),
            not_received=len(audits) - len(received),
        ),
    )


def _form(audit: Audit) -> ReturnForm:
    assert audit.form is not None
    return audit.form


def _sections(tool: AuditTool, received: Iterable[Audit]) -> list[tuple[str, str]]:
    """The tool's sections, then any graded under an older version of it: (id, title)."""
    sections = [(s.id, s.title) for s in tool.sections]
    known = {s for s, _ in sections}
    for audit in received:
        for section_id, answer in _form(audit).sections.items():
            if answer.grade and section_id not in known:
                sections.append((section_id, section_id))
                known.add(section_id)
    return sections


def _section_grades(
    sections: Sequence[tuple[str, str]],
    grades: Sequence[tuple[str, str, int]],
    received: Sequence[Audit],
) -> list[SectionGrades]:
    scores = {grade_id: score for grade_id, _, score in grades}
    made = []
    for section_id, title in sections:
        given = [g for a in received if (g := _form(a).section(section_id).grade)]
        counted = Counter(given)
        counts = [(grade_id, counted.get(grade_id, 0)) for grade_id, _, _ in grades]
        counts += [(g, n) for g, n in counted.items() if g not in scores]  # an older scale's
        scored = [scores[g] for g in given if g in scores]
        mean = round(sum(scored) / len(scored), 2) if scored else None
        made.append(SectionGrades(section_id, title, tuple(counts), len(given), mean))
    return made


def _by_agency(
    sections: Sequence[tuple[str, str]],
    grades: Sequence[tuple[str, str, int]],
    received: Sequence[Audit],
) -> tuple[AgencyGrades, ...]:
    grouped: dict[str, list[Audit]] = defaultdict(list)
    for audit in received:
        grouped[audit.agency_id].append(audit)
    made = [
        AgencyGrades(
            agency_id,
            members[0].agency_name,
            len(members),
            tuple(_section_grades(sections, grades, members)),
        )
        for agency_id, members in grouped.items()
    ]
    return tuple(sorted(made, key=lambda g: (g.agency_name.lower(), g.agency_id)))


def _side_by_side(
    cases: Sequence[CaseKey], audits: Sequence[Audit], section_ids: Sequence[str]
) -> list[CaseGrades]:
    by_case: dict[tuple[str, str], list[Audit]] = defaultdict(list)
    for audit in audits:
        by_case[(audit.case.area_id, audit.case.reference)].append(audit)
    made = []
    for case in cases:
        columns = []
        for audit in by_case.get((case.area_id, case.reference), []):
            form = audit.form if audit.received else None
            columns.append(
                AgencyColumn(
                    audit.agency_id,
                    audit.agency_name,
                    form is not None,
                    "submitted" if form is not None else audit.state,
                    tuple(
                        (s, form.section(s).grade if form is not None else None)
                        for s in section_ids
                    ),
                )
            )
        made.append(CaseGrades(case.reference, case.area_id, case.area_name, tuple(columns)))
    return made


def _by_theme(
    themes: Sequence[Theme],
    received: Sequence[Audit],
    entries_of: Callable[[ReturnForm], Sequence[Entry]],
) -> tuple[ThemeGroup, ...]:
    """Each theme found, with its entries; the most frequent first, then the taxonomy's order."""
    names = {t.id: t.name for t in themes}
    rank = {t.id: i for i, t in enumerate(themes)}
    grouped: dict[str, list[FindingLine]] = defaultdict(list)
    for audit in received:
        for entry in entries_of(_form(audit)):
            if entry.empty:
                continue
            grouped[entry.theme].append(
                FindingLine(
                    entry.text,
                    entry.key_phrase,
                    audit.case.reference,
                    audit.case.area_id,
                    audit.agency_id,
                    audit.agency_name,
                )
            )
    made = [
        ThemeGroup(theme_id, names.get(theme_id, theme_id or NO_THEME), tuple(lines))
        for theme_id, lines in grouped.items()
    ]
    return tuple(
        sorted(made, key=lambda g: (-g.count, rank.get(g.theme_id, len(rank)), g.theme_id))
    )


def _not_received(audit: Audit) -> NotReceived:
    draft = audit.form if audit.return_status == ReturnStatus.DRAFT else None
    return NotReceived(
        audit.case.reference,
        audit.case.area_id,
        audit.agency_id,
        audit.agency_name,
        audit.auditor_id,
        audit.auditor_name,
        audit.state,
        audit.due_on,
        concern_in_draft=bool(draft and draft.concern and draft.concern_text),
    )


def _concern(audit: Audit) -> Concern:
    return Concern(
        audit.case.reference,
        audit.case.area_id,
        audit.agency_id,
        audit.agency_name,
        audit.auditor_id,
        audit.auditor_name,
        _form(audit).concern_text,
    )
