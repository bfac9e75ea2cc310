"""A round's progress for the business unit's dashboard: every audit in one shown state.

:func:`round_progress` gives each assignment of a round its state (the order of
precedence is :mod:`audit_core.domain.progress`'s), the next step of its chase and
its date, and counts them for the round, by agency and by auditor.
:func:`list_rounds` gives every round with the same counts. Both only read.

The facts come from four places: the assignment (status, deadline, when its link was
opened), the outbox (what became of its current task email, as
:func:`.queries.task_message_states` reads it), its return (a draft, a reopening, an
immediate concern) and the chase's record (an escalation taken for the current task
and deadline).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from audit_core.domain.chasing import NextStep, is_escalation, next_step
from audit_core.domain.models import (
    Assignment,
    AssignmentStatus,
    AuditReturn,
    AuditRound,
    ChaseRecord,
    ReturnStatus,
    RoundCase,
    RoundStatus,
)
from audit_core.domain.progress import STATES, AuditFacts, shown_state, spreadsheet_text
from audit_core.domain.workdays import local_date
from audit_core.services.queries import area_names, get_round, task_message_states
from audit_core.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class ProgressLine:
    """One agency's audit of one case, as the dashboard shows it."""

    assignment_id: int
    case_ref: str
    area_id: str
    area_name: str
    agency_id: str
    agency_name: str
    auditor_id: str | None
    auditor_name: str | None
    state: str
    due_on: dt.date
    next_step: NextStep | None = None
    has_return: bool = False
    immediate_concern: bool = False
    concern_text: str | None = None  # typed by the auditor: plain text wherever shown
    declined_reason: str | None = None
    reopened_at: dt.datetime | None = None


def count_states(states: Iterable[str]) -> dict[str, int]:
    """Every state of :data:`STATES` (in order) with how many audits show it."""
    counted = Counter(states)
    shown = {state: counted.get(state, 0) for state in STATES}
    shown.update({k: v for k, v in counted.items() if k not in shown})  # any other state
    return shown


@dataclass(frozen=True)
class Group:
    """The audits of one agency, or of one auditor."""

    key: str
    name: str
    lines: tuple[ProgressLine, ...]
    agency_name: str = ""  # an auditor's agency

    @property
    def counts(self) -> dict[str, int]:
        """The states present in this group, in the order of :data:`STATES`."""
        return {k: v for k, v in count_states(line.state for line in self.lines).items() if v}


@dataclass(frozen=True)
class RoundProgress:
    round_id: str
    status: str
    focus_name: str
    due_on: dt.date
    audit_day_on: dt.date
    today: dt.date
    lines: tuple[ProgressLine, ...]  # by agency, then area and case
    counts: dict[str, int]  # every state, in order
    by_agency: tuple[Group, ...] = ()
    by_auditor: tuple[Group, ...] = ()

    @property
    def total(self) -> int:
        return len(self.lines)


@dataclass
class _Known:
    """What the outbox, the returns and the chase record say about some assignments."""

    delivery: dict[int, str] = field(default_factory=dict)
    returns: dict[int, Any] = field(default_factory=dict)  # assignment id -> a return's row
    taken: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), 500):
        yield list(ids[start : start + 500])


def _known(session: Session, assignments: Sequence[Assignment]) -> _Known:
    known = _Known(delivery=task_message_states(session, assignments))
    ids = [a.id for a in assignments]
    current = {a.id: (a.task_number, a.due_on) for a in assignments}
    for chunk in _chunks(ids):
        rows = session.execute(
            select(
                AuditReturn.assignment_id,
                AuditReturn.status,
                AuditReturn.reopened_at,
                AuditReturn.immediate_concern,
                AuditReturn.concern_text,
            ).where(AuditReturn.assignment_id.in_(chunk))
        )
        known.returns.update({row.assignment_id: row for row in rows})
        steps = session.execute(
            select(
                ChaseRecord.assignment_id,
                ChaseRecord.task_number,
                ChaseRecord.due_on,
                ChaseRecord.step,
            ).where(ChaseRecord.assignment_id.in_(chunk))
        )
        for assignment_id, task_number, due_on, step in steps:
            if current[assignment_id] == (task_number, due_on):  # this task, this deadline
                known.taken[assignment_id].add(step)
    return known


def audit_facts(assignment: Assignment, known: _Known) -> AuditFacts:
    """The plain facts the state rule needs for one assignment."""
    found = known.returns.get(assignment.id)
    return AuditFacts(
        status=assignment.status,
        delivery=known.delivery.get(assignment.id),
        due_on=assignment.due_on,
        opened=assignment.opened_at is not None,
        draft=found is not None and found.status == ReturnStatus.DRAFT,
        escalated=any(is_escalation(s) for s in known.taken.get(assignment.id, ())),
        reopened=found is not None and found.reopened_at is not None,
    )


def _next_step(
    uow: UnitOfWork, audit_round: AuditRound, assignment: Assignment, known: _Known
) -> NextStep | None:
    """The chase's next step: only a task out in an open round is chased."""
    if audit_round.status != RoundStatus.OPEN or assignment.status != AssignmentStatus.ISSUED:
        return None
    issued = assignment.issued_at
    return next_step(
        assignment.due_on,
        uow.config.cadence,
        chase_on=assignment.chase_on,
        today=uow.today,
        taken=known.taken.get(assignment.id, set()),
        issued_on=local_date(issued, uow.timezone) if issued else None,
    )


def _line(
    uow: UnitOfWork,
    audit_round: AuditRound,
    assignment: Assignment,
    known: _Known,
    names: dict[str, str],
) -> ProgressLine:
    round_case, auditor = assignment.round_case, assignment.auditor
    found = known.returns.get(assignment.id)
    return ProgressLine(
        assignment_id=assignment.id,
        case_ref=round_case.case.reference,
        area_id=round_case.area_id,
        area_name=names.get(round_case.area_id, round_case.area_id),
        agency_id=assignment.agency_id,
        agency_name=assignment.agency.name,
        auditor_id=assignment.auditor_id,
        auditor_name=auditor.name if auditor else None,
        state=shown_state(audit_facts(assignment, known), uow.today),
        due_on=assignment.due_on,
        next_step=_next_step(uow, audit_round, assignment, known),
        has_return=found is not None,
        immediate_concern=bool(found and found.immediate_concern),
        concern_text=found.concern_text if found else None,
        declined_reason=assignment.declined_reason
        if assignment.status == AssignmentStatus.DECLINED
        else None,
        reopened_at=found.reopened_at if found else None,
    )


def _groups(lines: Sequence[ProgressLine], *, by_auditor: bool) -> tuple[Group, ...]:
    grouped: dict[str, list[ProgressLine]] = defaultdict(list)
    for line in lines:
        key = (line.auditor_id or "") if by_auditor else line.agency_id
        grouped[key].append(line)
    groups = []
    for key, members in grouped.items():
        first = members[0]
        if by_auditor:
            name = first.auditor_name or "No auditor yet"
            groups.append(Group(key, name, tuple(members), agency_name=first.agency_name))
        else:
            groups.append(Group(key, first.agency_name, tuple(members)))
    if by_auditor:  # the audits without an auditor last
        return tuple(sorted(groups, key=lambda g: (not g.key, g.name.lower(), g.key)))
    return tuple(sorted(groups, key=lambda g: g.name.lower()))


def round_progress(uow: UnitOfWork, round_id: str) -> RoundProgress:
    """Every audit of the round in its shown state, with the next chase step and the counts."""
    audit_round = get_round(uow.session, round_id)
    assignments = _assignments(uow.session, audit_round.id)
    known = _known(uow.session, assignments)
    names = area_names(uow.session)
    area_rank = {a: i for i, a in enumerate(audit_round.areas)}
    lines = sorted(
        (_line(uow, audit_round, a, known, names) for a in assignments),
        key=lambda x: (x.agency_name.lower(), area_rank.get(x.area_id, 99), x.case_ref),
    )
    focus = next((f.name for f in uow.config.focuses if f.id == audit_round.focus_id), None)
    return RoundProgress(
        round_id=audit_round.id,
        status=audit_round.status,
        focus_name=focus or audit_round.focus_id,
        due_on=audit_round.due_on,
        audit_day_on=audit_round.audit_day_on,
        today=uow.today,
        lines=tuple(lines),
        counts=count_states(line.state for line in lines),
        by_agency=_groups(lines, by_auditor=False),
        by_auditor=_groups(lines, by_auditor=True),
    )


def _assignments(session: Session, round_id: str | None) -> list[Assignment]:
    """The round's assignments (every round's, for None) with case, agency and auditor."""
    query = (
        select(Assignment)
        .join(RoundCase, Assignment.round_case_id == RoundCase.id)
        .order_by(RoundCase.id, Assignment.agency_id)
        .options(
            selectinload(Assignment.round_case).selectinload(RoundCase.case),
            selectinload(Assignment.agency),
            selectinload(Assignment.auditor),
        )
    )
    if round_id is not None:
        query = query.where(RoundCase.round_id == round_id)
    return list(session.scalars(query))


# --- every round --------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundSummary:
    round_id: str
    status: str
    focus_name: str
    launch_on: dt.date
    due_on: dt.date
    counts: dict[str, int]  # the states present, in order

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def list_rounds(uow: UnitOfWork) -> list[RoundSummary]:
    """Every round, the latest launch first, with its audits counted by shown state."""
    session = uow.session
    rounds = list(
        session.scalars(select(AuditRound).order_by(AuditRound.launch_on.desc(), AuditRound.id))
    )
    assignments = _assignments(session, None)
    known = _known(session, assignments)
    states: dict[str, list[str]] = defaultdict(list)
    for a in assignments:
        states[a.round_case.round_id].append(shown_state(audit_facts(a, known), uow.today))
    names = {f.id: f.name for f in uow.config.focuses}
    return [
        RoundSummary(
            round_id=r.id,
            status=r.status,
            focus_name=names.get(r.focus_id, r.focus_id),
            launch_on=r.launch_on,
            due_on=r.due_on,
            counts={k: v for k, v in count_states(states.get(r.id, ())).items() if v},
        )
        for r in rounds
    ]


# --- the export -----------------------------------------------------------------------------

EXPORT_HEADINGS = (
    "Round",
    "Case reference",
    "Area",
    "Agency",
    "Auditor",
    "State",
    "Due",
    "Next chase step",
    "Next chase on",
    "Immediate concern",
    "Declined because",
)


def export_table(progress: RoundProgress) -> list[list[str]]:
    """The round's progress as rows of text for a spreadsheet, headings first.

    Every cell is text a spreadsheet shows as it is: one that starts like a formula
    (``=``, ``+``, ``-``, ``@``) gets a leading apostrophe, so what an auditor typed is
    never run (:func:`audit_core.domain.progress.spreadsheet_text`)."""
    rows = [list(EXPORT_HEADINGS)]
    for line in progress.lines:
        step = line.next_step
        concern = (line.concern_text or "yes") if line.immediate_concern else ""
        cells = [
            progress.round_id,
            line.case_ref,
            line.area_name,
            line.agency_name,
            line.auditor_name or "",
            line.state,
            line.due_on.isoformat(),
            step.label if step else "",
            step.on.isoformat() if step else "",
            concern,
            line.declined_reason or "",
        ]
        rows.append([spreadsheet_text(cell) for cell in cells])
    return rows
