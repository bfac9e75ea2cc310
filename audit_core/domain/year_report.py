"""The board's year of audits in figures: what ``auditround report year`` prints and charts.

:func:`year_figures` takes plain values (each round of the board year with its cases, its
audits as collation reads them and when each return came in; the actions that came from
the year's rounds) and gives a :class:`YearReport`:

1. the rounds: focus, launch, status, cases, audits and returns submitted;
2. grades over time: for each round, the mean score of each section of the audit tool,
   over all returns and agency by agency, exactly as collation works them out
   (:func:`audit_core.domain.collation.collate_audits`);
3. themes over time: how many strengths and lessons of each theme each round's returns
   gave (the most frequent over the year first), and the lessons the audit day flagged as
   well established findings;
4. the actions of the year's rounds by the owner's agency: done, open (open or in
   progress), of those overdue (past their due date), and dropped;
5. chasing: each round's audits whose return came in on time (by its due date), late, or
   not at all, and how many were escalated to an agency lead.

Only submitted returns count, as in collation. Nothing here reads a database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from audit_core.domain.collation import (
    Audit,
    CaseKey,
    Figures,
    SectionGrades,
    ThemeGroup,
    collate_audits,
)
from audit_core.domain.models import ActionStatus
from audit_core.domain.policy import AuditTool, Scale, Theme

OPEN = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)


# --- what the report reads -------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnTiming:
    """When one audit's return came in, against its due date, and whether it was escalated."""

    due_on: dt.date
    submitted_on: dt.date | None  # the board's date; None: not submitted
    escalated: bool = False


@dataclass(frozen=True)
class RoundInput:
    """One round of the year (its cases and audits within the area reported on, if one)."""

    round_id: str
    focus_name: str
    launched_on: dt.date
    status: str
    areas: tuple[str, ...]
    cases: tuple[CaseKey, ...]
    audits: tuple[Audit, ...]
    timings: tuple[ReturnTiming, ...]
    recurring: tuple[str, ...] = ()  # theme ids of its lessons flagged well established


@dataclass(frozen=True)
class ActionInput:
    """An action of one of the year's rounds: its owner's agency, status and due date."""

    round_id: str
    agency_id: str  # "" when none is recorded
    agency_name: str
    status: str  # ActionStatus
    due_on: dt.date


# --- what the report gives ---------------------------------------------------------------------


@dataclass(frozen=True)
class RoundRow:
    round_id: str
    focus_name: str
    launched_on: dt.date
    status: str
    areas: tuple[str, ...]
    cases: int
    audits: int
    submitted: int

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round_id,
            "focus": self.focus_name,
            "launched_on": self.launched_on.isoformat(),
            "status": self.status,
            "areas": list(self.areas),
            "cases": self.cases,
            "audits": self.audits,
            "returns_submitted": self.submitted,
        }


@dataclass(frozen=True)
class SectionTrend:
    """A section's mean score round by round (None: not graded in that round)."""

    section_id: str
    title: str
    means: tuple[float | None, ...]
    graded: tuple[int, ...]  # returns that graded it, round by round

    def to_json(self, round_ids: Sequence[str]) -> dict[str, Any]:
        return {
            "section": self.section_id,
            "title": self.title,
            "mean_score": dict(zip(round_ids, self.means, strict=True)),
            "graded": dict(zip(round_ids, self.graded, strict=True)),
        }


@dataclass(frozen=True)
class AgencyTrend:
    agency_id: str
    agency_name: str
    returns: tuple[int, ...]  # round by round
    sections: tuple[SectionTrend, ...]

    def to_json(self, round_ids: Sequence[str]) -> dict[str, Any]:
        return {
            "agency": self.agency_id,
            "name": self.agency_name,
            "returns": dict(zip(round_ids, self.returns, strict=True)),
            "sections": [s.to_json(round_ids) for s in self.sections],
        }


@dataclass(frozen=True)
class ThemeTrend:
    theme_id: str
    name: str
    counts: tuple[int, ...]  # round by round

    @property
    def total(self) -> int:
        return sum(self.counts)

    def to_json(self, round_ids: Sequence[str]) -> dict[str, Any]:
        return {
            "theme": self.theme_id,
            "name": self.name,
            "counts": dict(zip(round_ids, self.counts, strict=True)),
            "total": self.total,
        }


@dataclass(frozen=True)
class WellEstablished:
    """A lesson's theme the audit day flagged as recurring in a round."""

    round_id: str
    theme_id: str
    name: str

    def to_json(self) -> dict[str, str]:
        return {"round": self.round_id, "theme": self.theme_id, "name": self.name}


@dataclass(frozen=True)
class AgencyActions:
    agency_id: str
    agency_name: str
    total: int
    done: int
    open: int  # open or in progress
    overdue: int  # of the open ones, past their due date
    dropped: int

    def to_json(self) -> dict[str, Any]:
        return {
            "agency": self.agency_id,
            "name": self.agency_name,
            "total": self.total,
            "done": self.done,
            "open": self.open,
            "overdue": self.overdue,
            "dropped": self.dropped,
        }


@dataclass(frozen=True)
class ChaseRow:
    """A round's audits by when their returns came in."""

    round_id: str
    audits: int
    on_time: int
    late: int
    not_in: int
    escalated: int

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round_id,
            "audits": self.audits,
            "on_time": self.on_time,
            "late": self.late,
            "not_submitted": self.not_in,
            "escalated": self.escalated,
        }


@dataclass(frozen=True)
class YearReport:
    """The board year's audits in figures, for one area or the whole partnership."""

    year: str  # "2026-27"
    first_day: dt.date
    last_day: dt.date
    area_id: str | None
    area_name: str | None
    made_on: dt.date
    grades: tuple[tuple[str, str, int], ...]  # the scale: (id, label, score), best first
    rounds: tuple[RoundRow, ...]
    sections: tuple[SectionTrend, ...]
    agencies: tuple[AgencyTrend, ...]
    strengths: tuple[ThemeTrend, ...]
    lessons: tuple[ThemeTrend, ...]
    well_established: tuple[WellEstablished, ...]
    actions: tuple[AgencyActions, ...]
    chase: tuple[ChaseRow, ...]
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def round_ids(self) -> tuple[str, ...]:
        return tuple(r.round_id for r in self.rounds)

    def to_json(self) -> dict[str, Any]:
        ids = self.round_ids
        return {
            "year": self.year,
            "from": self.first_day.isoformat(),
            "to": self.last_day.isoformat(),
            "area": self.area_id,
            "made_on": self.made_on.isoformat(),
            "scale": [{"id": g, "label": label, "score": s} for g, label, s in self.grades],
            "totals": dict(self.totals),
            "rounds": [r.to_json() for r in self.rounds],
            "grades_by_section": [s.to_json(ids) for s in self.sections],
            "grades_by_agency": [a.to_json(ids) for a in self.agencies],
            "strengths_by_theme": [t.to_json(ids) for t in self.strengths],
            "lessons_by_theme": [t.to_json(ids) for t in self.lessons],
            "well_established_findings": [w.to_json() for w in self.well_established],
            "actions_by_agency": [a.to_json() for a in self.actions],
            "returns": [c.to_json() for c in self.chase],
        }


# --- the computation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Year:
    """Which year, and of where: the report's heading."""

    year: str
    first_day: dt.date
    last_day: dt.date
    made_on: dt.date
    area_id: str | None = None
    area_name: str | None = None


def year_figures(
    year: Year,
    tool: AuditTool,
    scale: Scale,
    themes: Sequence[Theme],
    rounds: Sequence[RoundInput],
    actions: Sequence[ActionInput],
) -> YearReport:
    """The year's figures from its rounds (in launch order) and its rounds' actions."""
    figures = [collate_audits(tool, scale, themes, r.cases, r.audits) for r in rounds]
    grades = tuple(sorted(((g.id, g.label, g.score) for g in scale.grades), key=lambda g: -g[2]))
    names = {t.id: t.name for t in themes}
    chase = tuple(chase_row(r.round_id, r.timings) for r in rounds)
    by_agency = actions_by_agency(actions, year.made_on)
    return YearReport(
        year=year.year,
        first_day=year.first_day,
        last_day=year.last_day,
        area_id=year.area_id,
        area_name=year.area_name,
        made_on=year.made_on,
        grades=grades,
        rounds=tuple(_round_row(r, f) for r, f in zip(rounds, figures, strict=True)),
        sections=section_trends([f.by_section for f in figures]),
        agencies=agency_trends(figures),
        strengths=theme_trends(themes, [f.strengths for f in figures]),
        lessons=theme_trends(themes, [f.lessons for f in figures]),
        well_established=tuple(
            WellEstablished(r.round_id, t, names.get(t, t)) for r in rounds for t in r.recurring
        ),
        actions=by_agency,
        chase=chase,
        totals=_totals(rounds, figures, chase, by_agency),
    )


def _round_row(r: RoundInput, f: Figures) -> RoundRow:
    return RoundRow(
        r.round_id,
        r.focus_name,
        r.launched_on,
        r.status,
        r.areas,
        f.totals.cases,
        f.totals.assignments,
        f.totals.submitted,
    )


def section_trends(per_round: Sequence[Sequence[SectionGrades]]) -> tuple[SectionTrend, ...]:
    """Each section graded in any round (the tool's order, then older ones), with its mean
    score round by round."""
    titles: dict[str, str] = {}
    for sections in per_round:
        for s in sections:
            titles.setdefault(s.section_id, s.title)
    made = []
    for section_id, title in titles.items():
        found = [
            next((s for s in sections if s.section_id == section_id), None)
            for sections in per_round
        ]
        made.append(
            SectionTrend(
                section_id,
                title,
                tuple(s.mean if s else None for s in found),
                tuple(s.graded if s else 0 for s in found),
            )
        )
    return tuple(made)


def agency_trends(figures: Sequence[Figures]) -> tuple[AgencyTrend, ...]:
    """Each agency with a return in any round, by name, with its section means round by
    round (as collation gives them agency by agency)."""
    names: dict[str, str] = {}
    for f in figures:
        for a in f.by_agency:
            names.setdefault(a.agency_id, a.agency_name)
    made = []
    for agency_id, name in names.items():
        found = [next((a for a in f.by_agency if a.agency_id == agency_id), None) for f in figures]
        made.append(
            AgencyTrend(
                agency_id,
                name,
                tuple(a.returns if a else 0 for a in found),
                section_trends([a.sections if a else () for a in found]),
            )
        )
    return tuple(sorted(made, key=lambda a: (a.agency_name.casefold(), a.agency_id)))


def theme_trends(
    themes: Sequence[Theme], per_round: Sequence[Sequence[ThemeGroup]]
) -> tuple[ThemeTrend, ...]:
    """Each theme found in any round with its count round by round: the most frequent over
    the year first, then the taxonomy's order."""
    names: dict[str, str] = {}
    for groups in per_round:
        for g in groups:
            names.setdefault(g.theme_id, g.theme_name)
    rank = {t.id: i for i, t in enumerate(themes)}
    made = [
        ThemeTrend(
            theme_id,
            name,
            tuple(sum(g.count for g in groups if g.theme_id == theme_id) for groups in per_round),
        )
        for theme_id, name in names.items()
    ]
    return tuple(
        sorted(made, key=lambda t: (-t.total, rank.get(t.theme_id, len(rank)), t.theme_id))
    )


def chase_row(round_id: str, timings: Iterable[ReturnTiming]) -> ChaseRow:
    """A round's audits by when their returns came in: by the due date, after it, not yet;
    and how many were escalated to an agency lead."""
    listed = list(timings)
    came = [t for t in listed if t.submitted_on is not None]
    on_time = sum(1 for t in came if t.submitted_on is not None and t.submitted_on <= t.due_on)
    return ChaseRow(
        round_id,
        audits=len(listed),
        on_time=on_time,
        late=len(came) - on_time,
        not_in=len(listed) - len(came),
        escalated=sum(1 for t in listed if t.escalated),
    )


def actions_by_agency(actions: Iterable[ActionInput], today: dt.date) -> tuple[AgencyActions, ...]:
    """The actions by their owner's agency (by name): done, still open (and of those past
    their due date), dropped."""
    grouped: dict[str, list[ActionInput]] = {}
    for action in actions:
        grouped.setdefault(action.agency_id, []).append(action)
    made = []
    for agency_id, found in grouped.items():
        still = [a for a in found if a.status in OPEN]
        made.append(
            AgencyActions(
                agency_id,
                found[0].agency_name or "No agency",
                total=len(found),
                done=sum(1 for a in found if a.status == ActionStatus.DONE),
                open=len(still),
                overdue=sum(1 for a in still if a.due_on < today),
                dropped=sum(1 for a in found if a.status == ActionStatus.DROPPED),
            )
        )
    return tuple(sorted(made, key=lambda a: (a.agency_name.casefold(), a.agency_id)))


def _totals(
    rounds: Sequence[RoundInput],
    figures: Sequence[Figures],
    chase: Sequence[ChaseRow],
    actions: Sequence[AgencyActions],
) -> dict[str, int]:
    return {
        "rounds": len(rounds),
        "cases": sum(f.totals.cases for f in figures),
        "audits": sum(f.totals.assignments for f in figures),
        "returns_submitted": sum(f.totals.submitted for f in figures),
        "on_time": sum(c.on_time for c in chase),
        "late": sum(c.late for c in chase),
        "not_submitted": sum(c.not_in for c in chase),
        "escalated": sum(c.escalated for c in chase),
        "actions": sum(a.total for a in actions),
        "actions_done": sum(a.done for a in actions),
        "actions_open": sum(a.open for a in actions),
        "actions_overdue": sum(a.overdue for a in actions),
        "actions_dropped": sum(a.dropped for a in actions),
    }


def out_stem(year: str, area_id: str | None = None) -> str:
    """The name the report's files share: ``year-report-2026-27`` (``-hackney`` for one area)."""
    return f"year-report-{year}" + (f"-{area_id}" if area_id else "")
