"""The board year's report: ``auditround report year 2026-27 [--area A]``.

:func:`year_report` reads every round launched in the board year (from the first day of
``board.briefing.year_starts_month``; cancelled rounds left out), of one area if asked:
each round's cases and audits with their returns as collation reads them, when each
return came in and whether it was escalated, the lessons the audit day flagged as well
established, and the actions of the year's rounds. The figures are worked out by
:func:`audit_core.domain.year_report.year_figures`.

The report holds counts and mean scores only, never a word of a return; as a collation
is, the reading is kept in the audit trail (``year_report_made``, with the totals).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from audit_core.domain.briefing_scope import describe_year, parse_year, year_bounds
from audit_core.domain.errors import NotFound
from audit_core.domain.models import (
    Action,
    Agency,
    Assignment,
    AssignmentStatus,
    AuditRound,
    ChaseRecord,
    Finding,
    FindingKind,
    RoundCase,
    RoundStatus,
)
from audit_core.domain.workdays import local_date
from audit_core.domain.year_report import (
    ActionInput,
    ReturnTiming,
    RoundInput,
    Year,
    YearReport,
    year_figures,
)
from audit_core.services.collation import round_audits
from audit_core.services.unit_of_work import UnitOfWork


def year_report(uow: UnitOfWork, year: str, area_id: str | None = None) -> YearReport:
    """The figures of the board year's rounds (of the area, if given); the reading is
    recorded."""
    config = uow.config
    label = parse_year(year)
    starts = config.board.briefing.year_starts_month
    first, last = year_bounds(label, starts)
    area = config.area(area_id) if area_id is not None else None
    found = year_rounds(uow, label, area_id)
    if not found:
        where = f" in {area.name}" if area is not None else ""
        raise NotFound(
            f"No round was launched{where} in {label} ({describe_year(label, starts)}): "
            "there is nothing to report on."
        )
    rounds = _round_inputs(uow, found, area_id)
    report = year_figures(
        Year(label, first, last, uow.today, area_id, area.name if area else None),
        config.audit_tool,
        config.scale,
        config.themes,
        rounds,
        _actions(uow, [r.id for r in found], area_id),
    )
    key = label if area_id is None else f"{label}:{area_id}"
    uow.record("year_report_made", "report", key, details=dict(report.totals))
    return report


def year_rounds(uow: UnitOfWork, year: str, area_id: str | None = None) -> list[AuditRound]:
    """The rounds launched in the board year (of the area, if given), not cancelled, the
    first launched first."""
    first, last = year_bounds(year, uow.config.board.briefing.year_starts_month)
    launched = uow.session.scalars(
        select(AuditRound).where(
            AuditRound.launched_at.is_not(None), AuditRound.status != RoundStatus.CANCELLED
        )
    )
    found = [
        r
        for r in launched
        if r.launched_at is not None
        and first <= local_date(r.launched_at, uow.timezone) <= last
        and (area_id is None or area_id in r.areas)
    ]
    return sorted(found, key=lambda r: (r.launched_at, r.id))


def _round_inputs(
    uow: UnitOfWork, rounds: Sequence[AuditRound], area_id: str | None
) -> list[RoundInput]:
    ids = [r.id for r in rounds]
    timings = _timings(uow, ids, area_id)
    recurring = _recurring(uow, ids, area_id)
    focus = {f.id: f.name for f in uow.config.focuses}
    made = []
    for r in rounds:
        assert r.launched_at is not None
        cases, audits = round_audits(uow, r)
        made.append(
            RoundInput(
                round_id=r.id,
                focus_name=focus.get(r.focus_id, r.focus_id),
                launched_on=local_date(r.launched_at, uow.timezone),
                status=r.status,
                areas=tuple(r.areas) if area_id is None else (area_id,),
                cases=tuple(c for c in cases if area_id in (None, c.area_id)),
                audits=tuple(a for a in audits if area_id in (None, a.case.area_id)),
                timings=tuple(timings.get(r.id, ())),
                recurring=tuple(recurring.get(r.id, ())),
            )
        )
    return made


def _timings(
    uow: UnitOfWork, round_ids: Sequence[str], area_id: str | None
) -> dict[str, list[ReturnTiming]]:
    """Each round's audits: due date, the day the return came in, whether escalated."""
    query = (
        select(RoundCase.round_id, Assignment.id, Assignment.due_on, Assignment.status)
        .add_columns(Assignment.submitted_at)
        .join(RoundCase, RoundCase.id == Assignment.round_case_id)
        .where(RoundCase.round_id.in_(round_ids))
        .order_by(Assignment.id)
    )
    if area_id is not None:
        query = query.where(RoundCase.area_id == area_id)
    rows = uow.session.execute(query).all()
    escalated = set(
        uow.session.scalars(
            select(ChaseRecord.assignment_id)
            .join(Assignment, Assignment.id == ChaseRecord.assignment_id)
            .join(RoundCase, RoundCase.id == Assignment.round_case_id)
            .where(RoundCase.round_id.in_(round_ids), ChaseRecord.step.like("escalation%"))
        )
    )
    found: dict[str, list[ReturnTiming]] = {}
    for round_id, assignment_id, due_on, status, submitted_at in rows:
        came = status == AssignmentStatus.SUBMITTED and submitted_at is not None
        found.setdefault(round_id, []).append(
            ReturnTiming(
                due_on,
                local_date(submitted_at, uow.timezone) if came else None,
                assignment_id in escalated,
            )
        )
    return found


def _recurring(
    uow: UnitOfWork, round_ids: Sequence[str], area_id: str | None
) -> dict[str, list[str]]:
    """Each round's lesson themes going forward that the audit day flagged recurring."""
    found: dict[str, list[str]] = {}
    rows = uow.session.execute(
        select(Finding.round_id, Finding.theme_id, Finding.case_refs)
        .where(
            Finding.round_id.in_(round_ids),
            Finding.kind == FindingKind.LESSON,
            Finding.forward.is_(True),
            Finding.recurring.is_(True),
        )
        .order_by(Finding.round_id, Finding.position, Finding.id)
    )
    for round_id, theme_id, case_refs in rows:
        areas = {ref.get("area") for ref in case_refs or []}
        themes = found.setdefault(round_id, [])
        if (area_id is None or area_id in areas) and theme_id not in themes:
            themes.append(theme_id)
    return found


def _actions(uow: UnitOfWork, round_ids: Sequence[str], area_id: str | None) -> list[ActionInput]:
    query = (
        select(Action.round_id, Action.agency_id, Agency.name, Action.status, Action.due_on)
        .outerjoin(Agency, Agency.id == Action.agency_id)
        .where(Action.round_id.in_(round_ids))
        .order_by(Action.id)
    )
    if area_id is not None:
        query = query.where(Action.area_id == area_id)
    return [
        ActionInput(round_id, agency_id or "", name or "", status, due_on)
        for round_id, agency_id, name, status, due_on in uow.session.execute(query)
    ]
