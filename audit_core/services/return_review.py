"""The business unit reads one audit and its return, and reopens a submitted return.

* **read** (:func:`read_return`): the audit (case, agency, auditor, state, deadline),
  its return's answers laid out by the audit tool's sections, and what may be done to
  it now. Every read of a return is kept in the audit trail (``return_read``, with
  who read it): returns are sensitive, and who saw one is part of the record.
* **reopen** (:func:`reopen_return`): once a round has moved to moderation, a
  submitted return can be opened again for its auditor to correct. The return goes
  back to draft (with when and by whom it was reopened), the audit is issued again with
  a fresh link (the old one stops working) and the auditor is emailed that link
  (``task:<assignment>:<n>``, kind ``reopened``: the email that carries the current
  link is always under the task's key, so the audit's delivery state follows it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from audit_core.domain import tokens
from audit_core.domain.assignment import Slot, why_not_eligible
from audit_core.domain.errors import InvalidState, NotFound
from audit_core.domain.models import (
    Assignment,
    AssignmentStatus,
    AuditReturn,
    AuditRound,
    Person,
    ReturnStatus,
    RoundStatus,
)
from audit_core.domain.policy import BoardConfig
from audit_core.domain.returns import from_stored
from audit_core.domain.workdays import local_date, zone
from audit_core.services import emails, outbox
from audit_core.services.fieldwork import facts_of, reason_given
from audit_core.services.progress import ProgressLine, round_progress
from audit_core.services.queries import get_round, practitioners_on, round_auditors
from audit_core.services.unit_of_work import UnitOfWork

_S = AssignmentStatus


@dataclass(frozen=True)
class SectionView:
    title: str
    grade: str  # the grade's label ("" when not graded)
    good_practice: str
    development: str
    recommendations: str


@dataclass(frozen=True)
class EntryView:
    theme: str  # the theme's name
    text: str
    key_phrase: str = ""


@dataclass(frozen=True)
class ReturnView:
    """A return as the dashboard shows it (times in the board's zone). All text is as the
    auditor typed it."""

    status: str
    submitted_at: dt.datetime | None
    reopened_at: dt.datetime | None
    reopened_by: str | None
    sections: tuple[SectionView, ...]
    strengths: tuple[EntryView, ...]
    lessons: tuple[EntryView, ...]
    immediate_concern: bool
    concern_text: str


@dataclass(frozen=True)
class AuditView:
    """One audit, its return (if one was saved) and what may be done to it now."""

    round_id: str
    round_status: str
    line: ProgressLine
    returned: ReturnView | None
    eligible: tuple[tuple[str, str], ...]  # (auditor id, name) who could take it now
    can_reassign: bool
    can_extend: bool
    can_reopen: bool
    can_resend: bool
    purged_on: dt.date | None = None  # the words of its returns purged (retention), that day


def find_audit(uow: UnitOfWork, round_id: str, assignment_id: int) -> tuple[AuditRound, Assignment]:
    """The round and one of its assignments; the same refusal for a wrong round or id."""
    audit_round = get_round(uow.session, round_id)
    assignment = uow.session.get(Assignment, assignment_id)
    if assignment is None or assignment.round_case.round_id != audit_round.id:
        raise NotFound(f"Round {audit_round.id} has no audit {assignment_id}.")
    return audit_round, assignment


def return_of(uow: UnitOfWork, assignment: Assignment) -> AuditReturn | None:
    return uow.session.scalars(
        select(AuditReturn).where(AuditReturn.assignment_id == assignment.id)
    ).one_or_none()


def read_return(uow: UnitOfWork, round_id: str, assignment_id: int) -> AuditView:
    """One audit and its return, for the page; the read of a return is recorded."""
    audit_round, assignment = find_audit(uow, round_id, assignment_id)
    line = next(
        x for x in round_progress(uow, audit_round.id).lines if x.assignment_id == assignment.id
    )
    found = return_of(uow, assignment)
    if found is not None:
        uow.record(
            "return_read",
            "audit_return",
            found.id,
            round_id=audit_round.id,
            details={
                "assignment": assignment.id,
                "case_ref": line.case_ref,
                "agency": assignment.agency_id,
                "status": found.status,
            },
        )
    is_open = audit_round.status == RoundStatus.OPEN
    changeable = audit_round.status in (RoundStatus.PLANNED, RoundStatus.OPEN)
    can_reassign = changeable and assignment.status != _S.SUBMITTED
    return AuditView(
        round_id=audit_round.id,
        round_status=audit_round.status,
        line=line,
        returned=_view(uow.config, found) if found is not None else None,
        eligible=eligible_auditors(uow, assignment) if can_reassign else (),
        can_reassign=can_reassign,
        can_extend=is_open and assignment.status != _S.SUBMITTED,
        can_reopen=audit_round.status == RoundStatus.MODERATION
        and assignment.status == _S.SUBMITTED
        and found is not None,
        can_resend=assignment.status == _S.ISSUED
        and (is_open or (found is not None and found.reopened_at is not None)),
        purged_on=local_date(audit_round.purged_at, uow.config.board.timezone)
        if audit_round.purged_at is not None
        else None,
    )


def _view(config: BoardConfig, found: AuditReturn) -> ReturnView:
    """The stored answers laid out by the audit tool's sections, with names for ids."""
    form = from_stored(
        found.answers or {},
        found.strengths or [],
        found.lessons or [],
        found.immediate_concern,
        found.concern_text,
    )
    grades = {g.id: g.label for g in config.scale.grades}
    themes = {t.id: t.name for t in config.themes}
    titles = {s.id: s.title for s in config.audit_tool.sections}
    order = [s.id for s in config.audit_tool.sections]
    order += [s for s in form.sections if s not in titles]  # answered under an older tool
    sections = []
    for section_id in order:
        answer = form.section(section_id)
        sections.append(
            SectionView(
                title=titles.get(section_id, section_id),
                grade=grades.get(answer.grade or "", answer.grade or ""),
                good_practice=answer.good_practice,
                development=answer.development,
                recommendations=answer.recommendations,
            )
        )
    local = zone(config.board.timezone)
    return ReturnView(
        status=found.status,
        submitted_at=found.submitted_at.astimezone(local) if found.submitted_at else None,
        reopened_at=found.reopened_at.astimezone(local) if found.reopened_at else None,
        reopened_by=found.reopened_by,
        sections=tuple(sections),
        strengths=tuple(
            EntryView(themes.get(e.theme, e.theme), e.text, e.key_phrase) for e in form.strengths
        ),
        lessons=tuple(EntryView(themes.get(e.theme, e.theme), e.text) for e in form.lessons),
        immediate_concern=form.concern,
        concern_text=form.concern_text,
    )


def eligible_auditors(uow: UnitOfWork, assignment: Assignment) -> tuple[tuple[str, str], ...]:
    """The auditors who could take this audit now under every assignment rule (the agency,
    the area, no conflict of interest, capacity left), its current auditor left out."""
    round_case = assignment.round_case
    slot = Slot(
        key=str(assignment.id),
        area_id=round_case.area_id,
        agency_id=assignment.agency_id,
        practitioner_ids=practitioners_on(uow.session, round_case.case_id, assignment.agency_id),
    )
    names = {p.id: p.name for p in uow.session.scalars(select(Person))}
    return tuple(
        (a.id, names.get(a.id, a.id))
        for a in round_auditors(uow.session, round_case.round_id, except_assignment=assignment.id)
        if a.id != assignment.auditor_id and why_not_eligible(slot, a) is None
    )


# --- reopen -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reopened:
    round_id: str
    assignment_id: int
    case_ref: str
    agency_id: str
    auditor_id: str
    queued: tuple[str, ...]


def reopen_return(uow: UnitOfWork, *, round_id: str, assignment_id: int, reason: str) -> Reopened:
    """Open a submitted return again for its auditor, once the round is in moderation.

    1. The round must be in moderation, the audit and its return submitted.
    2. The return goes back to draft, keeping when and by whom it was reopened.
    3. The old link stops working; the audit is issued again with a fresh one, and the
       auditor is emailed it. The reason is kept in the audit trail (not in the email).
    """
    text = reason_given(reason)
    uow.mailer()  # the sender and the public address are needed before anything changes
    audit_round, assignment = find_audit(uow, round_id, assignment_id)
    case_ref = assignment.round_case.case.reference
    if audit_round.status != RoundStatus.MODERATION:
        raise InvalidState(
            f"Round {audit_round.id} is {audit_round.status}: a submitted return can be "
            "reopened only once the round has moved to moderation."
        )
    found = return_of(uow, assignment)
    if assignment.status != _S.SUBMITTED or found is None or found.status != ReturnStatus.SUBMITTED:
        raise InvalidState(
            f"The {assignment.agency_id} return for case {case_ref} is not submitted: there "
            "is nothing to reopen."
        )
    auditor = assignment.auditor
    assert auditor is not None  # a submitted return has its auditor
    found.status = ReturnStatus.DRAFT
    found.reopened_at, found.reopened_by, found.updated_at = uow.now, uow.actor, uow.now
    withdrawn = outbox.withdraw(uow, [assignment.task_key], why="the return was reopened")
    assignment.retire_link(uow.now)
    token = tokens.new_token()
    assignment.task_issued(tokens.hash_token(token), uow.now)
    assignment.opened_at = None  # the new link has not been opened
    assignment.chase_on = None  # moderation has begun: the chase is over
    letter = emails.reopened(
        uow.config,
        facts_of(uow, audit_round, assignment),
        auditor_name=auditor.name,
        auditor_email=auditor.email,
        link=tokens.return_link(uow.mailer().public_url, token),
    )
    key = assignment.task_key
    queued = outbox.queue(uow, outbox.Draft(key, "reopened", letter, audit_round.id, assignment.id))
    uow.record(
        "return_reopened",
        "audit_return",
        found.id,
        round_id=audit_round.id,
        details={
            "assignment": assignment.id,
            "case_ref": case_ref,
            "agency": assignment.agency_id,
            "auditor": auditor.id,
            "reason": text,
            "dedupe_key": key,
            "withdrawn": withdrawn,
        },
    )
    uow.session.flush()
    return Reopened(
        audit_round.id,
        assignment.id,
        case_ref,
        assignment.agency_id,
        auditor.id,
        (key,) if queued.created else (),
    )
