"""The auditor's return, reached by the secure link in their task email.

A link opens one assignment while its token is current (DESIGN invariant 7): the
token's hash is the assignment's ``token_hash``, and the round is neither closed
nor cancelled. Anything else is :data:`None` to the caller, which answers with a
plain 404 and no hint of why.

- :func:`open_task`: the task and its saved answers; the first opening of a link is
  recorded (``assignment.opened_at``, a ``task_opened`` event).
- :func:`save_draft`: keep the answers as they are, partly filled; the view says what
  is still missing.
- :func:`submit`: every rule of :func:`audit_core.domain.returns.still_missing` must
  hold; the return is then read-only, and a receipt goes to the auditor
  (``receipt:<assignment>:<n>``).
- An immediate safeguarding concern, once described, alerts the business unit at once
  (``concern:<assignment>:<task>``), on a draft as on a submission. The alert names the
  case by reference and links to the dashboard: it carries none of the typed text.
- :func:`decline_task`: the auditor declines through
  :func:`audit_core.services.fieldwork.decline`.

Who acts, in the audit trail, is ``link:<auditor id>``: the holder of that auditor's
link (the portal asks no sign-in of auditors).

The deadline lock: while the round is open the form can be changed; once the round
has moved on to moderation it is read-only, unless the business unit reopened
that return (``audit_return.reopened_at``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from audit_core.domain.errors import InvalidState
from audit_core.domain.models import (
    Assignment,
    AssignmentStatus,
    AuditReturn,
    AuditRound,
    ReturnStatus,
    RoundCase,
    RoundStatus,
)
from audit_core.domain.policy import AuditTool
from audit_core.domain.returns import (
    Problem,
    ReturnForm,
    from_stored,
    read_form,
    still_missing,
    to_stored,
)
from audit_core.domain.tokens import dashboard_link, hash_token
from audit_core.services import emails, fieldwork, outbox
from audit_core.services.unit_of_work import UnitOfWork

_LIVE = (RoundStatus.OPEN, RoundStatus.MODERATION, RoundStatus.BRIEFING)


@dataclass(frozen=True)
class TaskView:
    """What the form page shows: the task, the tool, and the answers saved so far."""

    assignment_id: int
    round_id: str
    case_ref: str
    area_name: str
    agency_name: str
    focus_name: str
    auditor_name: str
    due_on: dt.date
    tool: AuditTool
    grades: tuple[tuple[str, str], ...]  # (id, label), best first
    themes: tuple[tuple[str, str], ...]  # (id, name)
    form: ReturnForm
    state: str  # "new" | "draft" | "submitted" | "locked"
    saved_at: dt.datetime | None
    submitted_at: dt.datetime | None
    submitted_local: dt.datetime | None  # the same in the board's time zone, for the page
    missing: tuple[Problem, ...]  # what a submission still needs

    @property
    def editable(self) -> bool:
        return self.state in ("new", "draft")


@dataclass(frozen=True)
class Outcome:
    """What a save or a submission did: the page to show, and the problems to point at."""

    view: TaskView
    problems: tuple[Problem, ...] = ()  # values refused, or (on submit) what is missing
    saved: bool = False
    submitted: bool = False
    concern_alerted: bool = False


def _find(uow: UnitOfWork, token: str) -> Assignment | None:
    """The assignment a current token opens, or None (wrong, retired, or round over)."""
    try:
        token_hash = hash_token(token)
    except UnicodeEncodeError:
        return None
    assignment = uow.session.scalars(
        select(Assignment)
        .where(Assignment.token_hash == token_hash)
        .options(  # what the page shows, in the one query
            joinedload(Assignment.round_case).joinedload(RoundCase.round),
            joinedload(Assignment.round_case).joinedload(RoundCase.case),
            joinedload(Assignment.agency),
            joinedload(Assignment.auditor),
        )
    ).one_or_none()
    if assignment is None or assignment.round_case.round.status not in _LIVE:
        return None
    if assignment.status not in (AssignmentStatus.ISSUED, AssignmentStatus.SUBMITTED):
        return None
    uow.actor = f"link:{assignment.auditor_id}"  # whoever holds this auditor's link acts
    return assignment


def _stored_return(uow: UnitOfWork, assignment: Assignment) -> AuditReturn | None:
    return uow.session.scalars(
        select(AuditReturn).where(AuditReturn.assignment_id == assignment.id)
    ).one_or_none()


def _state(audit_round: AuditRound, assignment: Assignment, stored: AuditReturn | None) -> str:
    if assignment.status == AssignmentStatus.SUBMITTED:
        return "submitted"
    reopened = stored is not None and stored.reopened_at is not None
    if audit_round.status != RoundStatus.OPEN and not reopened:
        return "locked"  # the deadline lock: the round is in moderation or later
    return "draft" if stored is not None else "new"


def _view(
    uow: UnitOfWork,
    assignment: Assignment,
    stored: AuditReturn | None,
    form: ReturnForm | None = None,
) -> TaskView:
    config, audit_round = uow.config, assignment.round_case.round
    if form is None:
        form = (
            ReturnForm()
            if stored is None
            else from_stored(
                stored.answers,
                stored.strengths,
                stored.lessons,
                stored.immediate_concern,
                stored.concern_text,
            )
        )
    grades = sorted(config.scale.grades, key=lambda g: -g.score)
    submitted = stored.submitted_at if stored is not None else None
    zone = ZoneInfo(config.board.timezone)
    return TaskView(
        assignment_id=assignment.id,
        round_id=audit_round.id,
        case_ref=assignment.round_case.case.reference,
        area_name=config.area(assignment.round_case.area_id).name,
        agency_name=assignment.agency.name,
        focus_name=config.focus(audit_round.focus_id).name,
        auditor_name=assignment.auditor.name if assignment.auditor else "",
        due_on=assignment.due_on,
        tool=config.audit_tool,
        grades=tuple((g.id, g.label) for g in grades),
        themes=tuple((t.id, t.name) for t in config.themes),
        form=form,
        state=_state(audit_round, assignment, stored),
        saved_at=stored.updated_at if stored is not None else None,
        submitted_at=submitted,
        submitted_local=submitted.astimezone(zone) if submitted else None,
        missing=tuple(still_missing(config.audit_tool, form)),
    )


def open_task(uow: UnitOfWork, token: str) -> TaskView | None:
    """The task the token opens, its first opening recorded; None for any bad token."""
    assignment = _find(uow, token)
    if assignment is None:
        return None
    if assignment.opened_at is None and assignment.status == AssignmentStatus.ISSUED:
        assignment.opened_at = uow.now
        uow.record(
            "task_opened",
            "assignment",
            assignment.id,
            round_id=assignment.round_case.round_id,
            details={"task": assignment.task_key},
        )
    return _view(uow, assignment, _stored_return(uow, assignment))


def save_draft(uow: UnitOfWork, token: str, fields: Mapping[str, str]) -> Outcome | None:
    """Keep the answers as typed, partly filled; refuse only values the form cannot take."""
    return _take(uow, token, fields, submitting=False)


def submit(uow: UnitOfWork, token: str, fields: Mapping[str, str]) -> Outcome | None:
    """Validate and submit the return; it is read-only afterwards, and a receipt is sent."""
    return _take(uow, token, fields, submitting=True)


def _grades_and_themes(uow: UnitOfWork) -> tuple[dict[str, str], dict[str, str]]:
    grades = {g.id: g.label for g in uow.config.scale.grades}
    return grades, {t.id: t.name for t in uow.config.themes}


def _take(
    uow: UnitOfWork, token: str, fields: Mapping[str, str], *, submitting: bool
) -> Outcome | None:
    assignment = _find(uow, token)
    if assignment is None:
        return None
    stored = _stored_return(uow, assignment)
    if _state(assignment.round_case.round, assignment, stored) not in ("new", "draft"):
        return Outcome(_view(uow, assignment, stored))  # submitted or locked: read-only
    tool = uow.config.audit_tool
    form, problems = read_form(tool, *_grades_and_themes(uow), fields)
    if submitting:
        problems += still_missing(tool, form)
    if problems:
        return Outcome(_view(uow, assignment, stored, form), tuple(problems))
    stored = _write(uow, assignment, stored, form, submitting=submitting)
    alerted = _alert_concern(uow, assignment, form)
    if submitting:
        assignment.submit(uow.now)
        _send_receipt(uow, assignment, stored)
    uow.session.flush()
    return Outcome(
        _view(uow, assignment, stored),
        saved=True,
        submitted=submitting,
        concern_alerted=alerted,
    )


def _write(
    uow: UnitOfWork,
    assignment: Assignment,
    stored: AuditReturn | None,
    form: ReturnForm,
    *,
    submitting: bool,
) -> AuditReturn:
    """Write the answers into the return (made on the first save)."""
    audit_round = assignment.round_case.round
    if stored is None:
        stored = AuditReturn(
            assignment_id=assignment.id,
            audit_tool_id=audit_round.audit_tool_id,
            audit_tool_version=audit_round.audit_tool_version,
        )
        uow.session.add(stored)
    for column, value in to_stored(form).items():
        setattr(stored, column, value)
    stored.status = ReturnStatus.SUBMITTED if submitting else ReturnStatus.DRAFT
    stored.updated_at = uow.now
    if submitting:
        stored.submitted_at = uow.now
    graded = sum(1 for a in form.sections.values() if a.grade)
    uow.record(
        "return_submitted" if submitting else "return_saved",
        "assignment",
        assignment.id,
        round_id=audit_round.id,
        details={"sections_graded": graded, "of": len(uow.config.audit_tool.sections)},
    )
    return stored


def _alert_concern(uow: UnitOfWork, assignment: Assignment, form: ReturnForm) -> bool:
    """Tell the business unit of an immediate concern, once per task; True if told now."""
    if not (form.concern and form.concern_text):
        return False
    audit_round = assignment.round_case.round
    key = f"concern:{assignment.id}:{assignment.task_number}"
    if outbox.find(uow.session, key) is not None:
        return False
    letter = emails.concern(
        uow.config,
        fieldwork.facts_of(uow, audit_round, assignment),
        auditor_name=assignment.auditor.name if assignment.auditor else "",
        link=dashboard_link(
            uow.mailer().public_url, f"rounds/{audit_round.id}/returns/{assignment.id}"
        ),
    )
    outbox.queue(uow, outbox.Draft(key, "concern", letter, audit_round.id, assignment.id))
    uow.record(
        "concern_raised",
        "assignment",
        assignment.id,
        round_id=audit_round.id,
        details={"case_ref": assignment.round_case.case.reference, "alert": key},
    )
    return True


def _send_receipt(uow: UnitOfWork, assignment: Assignment, stored: AuditReturn) -> None:
    audit_round, auditor = assignment.round_case.round, assignment.auditor
    if auditor is None:
        raise InvalidState("The return has no auditor to send its receipt to.")
    when = stored.submitted_at or uow.now
    letter = emails.receipt(
        uow.config,
        fieldwork.facts_of(uow, audit_round, assignment),
        auditor_name=auditor.name,
        auditor_email=auditor.email,
        submitted_at=when.astimezone(ZoneInfo(uow.config.board.timezone)),
    )
    key = f"receipt:{assignment.id}:{when.strftime('%Y%m%dT%H%M%S')}"
    outbox.queue(uow, outbox.Draft(key, "receipt", letter, audit_round.id, assignment.id))


def decline_task(uow: UnitOfWork, token: str, reason: str) -> fieldwork.Change | None:
    """The auditor declines their task (not their agency's case, a conflict of interest)."""
    assignment = _find(uow, token)
    if assignment is None:
        return None
    if assignment.status != AssignmentStatus.ISSUED:
        raise InvalidState("This return is submitted: it can no longer be declined.")
    return fieldwork.decline(
        uow,
        round_id=assignment.round_case.round_id,
        case_ref=assignment.round_case.case.reference,
        agency_id=assignment.agency_id,
        area_id=assignment.round_case.area_id,
        reason=reason,
    )
