"""A subject access request: everything held about one case, or one person.

``auditround privacy subject-access --case REF | --person ID_OR_EMAIL`` calls
:func:`subject_access`:

- a **case**: its row of the register (with the agencies involved and their practitioner
  ids), the rounds it was selected in, each agency's audit of it, the returns (every
  word), what the audit day recorded about it, the findings and actions that came from
  it, the emails about it (its audits' emails, and any whose subject names it), and the
  audit events about it;
- a **person** (by their id in the configuration or on the dashboard, or any email
  address): what the configuration holds about them, their auditor record, the audits
  given to them and the returns they wrote, the actions they own and the updates written
  on them, the emails sent to them, their dashboard account, and the audit events they
  made or that name them (:mod:`audit_core.services.subject_access_person`).

Nothing is changed, but the listing holds returns, so reading it is kept in the audit
trail (``subject_access_listed``, with the counts only). A case or person auditround
knows nothing of is named in a :class:`~audit_core.domain.errors.NotFound`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, func, or_, select, tuple_

from audit_core.domain.errors import AuditRoundError, NotFound
from audit_core.domain.models import (
    Action,
    Assignment,
    AuditEvent,
    AuditReturn,
    CaseFile,
    CaseModeration,
    ChaseRecord,
    Finding,
    OutboxMessage,
    RoundCase,
)
from audit_core.domain.subject_access import (
    CASE,
    PERSON,
    Listing,
    Part,
    holds_value,
    like_pattern,
    names_reference,
)
from audit_core.domain.workdays import zone
from audit_core.services.unit_of_work import UnitOfWork

EVENT = "subject_access_listed"


def subject_access(
    uow: UnitOfWork,
    *,
    case: str | None = None,
    area_id: str | None = None,
    person: str | None = None,
) -> Listing:
    """Everything held about the case (of the area, if given) or the person; the reading
    is recorded."""
    if (case is None) == (person is None):
        raise AuditRoundError("Name one subject: a case reference or a person, one of the two.")
    if case is not None:
        listing = Listing(CASE, case, uow.now, case_parts(uow, case.strip(), area_id))
        key = case if area_id is None else f"{area_id}:{case}"
        uow.record(EVENT, "case_file", key, details={"counts": listing.counts})
        return listing
    from audit_core.services.subject_access_person import person_parts

    assert person is not None
    listing = Listing(PERSON, person, uow.now, person_parts(uow, person.strip()))
    uow.record(EVENT, "person", person, details={"counts": listing.counts})
    return listing


# --- a case -------------------------------------------------------------------------------


def case_parts(uow: UnitOfWork, reference: str, area_id: str | None) -> tuple[Part, ...]:
    session = uow.session
    query = select(CaseFile).where(CaseFile.reference == reference).order_by(CaseFile.area_id)
    if area_id is not None:
        query = query.where(CaseFile.area_id == uow.config.area(area_id).id)
    cases = list(session.scalars(query))
    if not cases:
        where = f" in {uow.config.area(area_id).name}" if area_id else ""
        raise NotFound(f"There is no case {reference}{where} in the register.")
    case_ids = [c.id for c in cases]
    selected = list(
        session.scalars(
            select(RoundCase).where(RoundCase.case_id.in_(case_ids)).order_by(RoundCase.id)
        )
    )
    audits = [a for rc in selected for a in rc.assignments]
    returns = returns_of(uow, audits)
    findings = _findings_naming(uow, cases, [rc.round_id for rc in selected])
    messages = _case_messages(uow, reference, audits)
    objects = [("case_file", str(c.id)) for c in cases]
    objects += [("round_case", str(rc.id)) for rc in selected]
    objects += [("assignment", str(a.id)) for a in audits]
    objects += [("audit_return", str(r.id)) for r in returns]
    objects += [("outbox_message", str(m.id)) for m in messages]
    return (
        Part("register", "The case register", tuple(_case_row(c) for c in cases)),
        Part(
            "rounds", "Rounds it was selected in", tuple(_selected_row(uow, rc) for rc in selected)
        ),
        Part("audits", "Each agency's audit of it", tuple(audit_row(uow, a) for a in audits)),
        Part(
            "returns",
            "Returns",
            tuple(return_row(uow, r) for r in returns),
            note="What the auditors wrote. A round past its retention keeps only the grades "
            "and themes.",
        ),
        Part("audit_day", "What the audit day recorded", _moderation_rows(uow, selected)),
        Part("findings", "Findings from it", tuple(_finding_row(f) for f in findings)),
        Part("actions", "Actions from those findings", _action_rows(uow, findings)),
        Part(
            "emails",
            "Emails about it",
            tuple(message_row(uow, m) for m in messages),
            note="Who each went to and when; 'auditround outbox show ID' shows one as sent.",
        ),
        Part(
            "events",
            "The audit trail",
            events_about(uow, objects=objects, values=[reference]),
        ),
    )


def _case_row(case: CaseFile) -> dict[str, Any]:
    return {
        "area": case.area_id,
        "reference": case.reference,
        "category": case.category,
        "age_band": case.age_band,
        "flags": list(case.flags or ()),
        "opened_on": _day(case.opened_on),
        "last_activity_on": _day(case.last_activity_on),
        "closed_on": _day(case.closed_on),
        "last_audited_on": _day(case.last_audited_on),
        "agencies": [
            {"agency": i.agency_id, "practitioners": list(i.practitioner_ids or ())}
            for i in case.involvements
        ],
    }


def _selected_row(uow: UnitOfWork, rc: RoundCase) -> dict[str, Any]:
    return {
        "round": rc.round_id,
        "focus": rc.round.focus_id,
        "status": rc.round.status,
        "area": rc.area_id,
        "stratum": rc.stratum,
        "why": rc.rationale,
        "selected_at": local_time(uow, rc.selected_at),
    }


def audit_row(uow: UnitOfWork, a: Assignment) -> dict[str, Any]:
    """One agency's audit of one case, for either kind of subject."""
    return {
        "round": a.round_case.round_id,
        "case": a.round_case.case.reference,
        "agency": a.agency_id,
        "auditor": a.auditor_id,
        "auditor_name": a.auditor.name if a.auditor else None,
        "status": a.status,
        "due_on": _day(a.due_on),
        "issued_at": local_time(uow, a.issued_at),
        "declined_at": local_time(uow, a.declined_at),
        "declined_reason": a.declined_reason,
        "submitted_at": local_time(uow, a.submitted_at),
    }


def returns_of(uow: UnitOfWork, audits: Sequence[Assignment]) -> list[AuditReturn]:
    """The returns of these audits, in the order they were first saved."""
    ids = [a.id for a in audits]
    if not ids:
        return []
    return list(
        uow.session.scalars(
            select(AuditReturn).where(AuditReturn.assignment_id.in_(ids)).order_by(AuditReturn.id)
        )
    )


def return_row(uow: UnitOfWork, r: AuditReturn) -> dict[str, Any]:
    """A return with every word it holds."""
    a = r.assignment
    audit_round = a.round_case.round
    return {
        "round": audit_round.id,
        "case": a.round_case.case.reference,
        "agency": a.agency_id,
        "auditor": a.auditor_id,
        "status": r.status,
        "submitted_at": local_time(uow, r.submitted_at),
        "answers": dict(r.answers or {}),
        "strengths": list(r.strengths or ()),
        "lessons": list(r.lessons or ()),
        "immediate_concern": r.immediate_concern,
        "concern_text": r.concern_text,
        "reopened_at": local_time(uow, r.reopened_at),
        "reopened_by": r.reopened_by,
        "free_text_purged_at": local_time(uow, audit_round.purged_at),
    }


def _moderation_rows(uow: UnitOfWork, selected: Sequence[RoundCase]) -> tuple[dict[str, Any], ...]:
    ids = [rc.id for rc in selected]
    rows = uow.session.scalars(
        select(CaseModeration)
        .where(CaseModeration.round_case_id.in_(ids))
        .order_by(CaseModeration.id)
    )
    return tuple(
        {
            "round": m.round_case.round_id,
            "agreed_grade": m.agreed_grade,
            "key_findings": m.key_findings,
            "summary": m.summary,
            "moderated_at": local_time(uow, m.moderated_at),
            "moderated_by": m.moderated_by,
        }
        for m in rows
    )


def _findings_naming(
    uow: UnitOfWork, cases: Sequence[CaseFile], round_ids: Sequence[str]
) -> list[Finding]:
    keys = {(c.area_id, c.reference) for c in cases}
    found = uow.session.scalars(
        select(Finding).where(Finding.round_id.in_(round_ids)).order_by(Finding.id)
    )
    return [
        f for f in found if any((ref.get("area"), ref.get("ref")) in keys for ref in f.case_refs)
    ]


def _finding_row(f: Finding) -> dict[str, Any]:
    return {
        "round": f.round_id,
        "kind": f.kind,
        "theme": f.theme_id,
        "key_phrase": f.key_phrase,
        "text": f.text,
        "agencies": list(f.agencies or ()),
        "forward": f.forward,
    }


def _action_rows(uow: UnitOfWork, findings: Sequence[Finding]) -> tuple[dict[str, Any], ...]:
    ids = [f.id for f in findings]
    if not ids:
        return ()
    rows = uow.session.scalars(select(Action).where(Action.finding_id.in_(ids)).order_by(Action.id))
    return tuple(action_row(a) for a in rows)


def action_row(a: Action) -> dict[str, Any]:
    return {
        "action": a.id,
        "round": a.round_id,
        "theme": a.theme_id,
        "text": a.text,
        "measure": a.measure,
        "owner": a.owner_id,
        "owner_name": a.owner_name,
        "owner_email": a.owner_email,
        "agency": a.agency_id,
        "due_on": _day(a.due_on),
        "status": a.status,
    }


def _case_messages(
    uow: UnitOfWork, reference: str, audits: Sequence[Assignment]
) -> list[OutboxMessage]:
    """The emails of its audits (and of the chase steps taken for them), and any whose
    subject names the case."""
    ids = [a.id for a in audits]
    stepped: set[int] = set()
    if ids:
        stepped = {
            m
            for m in uow.session.scalars(
                select(ChaseRecord.outbox_message_id).where(ChaseRecord.assignment_id.in_(ids))
            )
            if m is not None
        }
    conditions: list[ColumnElement[bool]] = [
        OutboxMessage.subject.like(like_pattern(reference), escape="\\"),
        OutboxMessage.assignment_id.in_(ids),
        OutboxMessage.id.in_(stepped),
    ]
    found = uow.session.scalars(
        select(OutboxMessage).where(or_(*conditions)).order_by(OutboxMessage.id)
    )
    return [
        m
        for m in found
        if m.assignment_id in ids or m.id in stepped or names_reference(m.subject, reference)
    ]


def message_row(uow: UnitOfWork, m: OutboxMessage) -> dict[str, Any]:
    return {
        "message": m.id,
        "kind": m.kind,
        "round": m.round_id,
        "to": list(m.recipients or ()),
        "subject": m.subject,
        "status": m.status,
        "queued_at": local_time(uow, m.queued_at),
        "sent_at": local_time(uow, m.sent_at),
        "content": "purged" if m.body_purged_at is not None else "kept",
    }


# --- the audit trail ------------------------------------------------------------------------


def events_about(
    uow: UnitOfWork,
    *,
    objects: Iterable[tuple[str, str]] = (),
    values: Iterable[str] = (),
    actors: Iterable[str] = (),
) -> tuple[dict[str, Any], ...]:
    """The audit events about these objects, naming one of these values in their details,
    or made by one of these actors, in the trail's order."""
    objects, values, actors = list(objects), list(values), list(actors)
    details = func.lower(cast(AuditEvent.details, Text))
    conditions: list[ColumnElement[bool]] = [
        details.like(like_pattern(v.lower()), escape="\\") for v in values
    ]
    if objects:
        conditions.append(tuple_(AuditEvent.object_type, AuditEvent.object_id).in_(objects))
    if actors:
        conditions.append(AuditEvent.actor.in_(actors))
    if not conditions:
        return ()
    known = set(objects)
    found = uow.session.scalars(select(AuditEvent).where(or_(*conditions)).order_by(AuditEvent.seq))
    return tuple(
        {
            "seq": e.seq,
            "at": local_time(uow, e.at),
            "actor": e.actor,
            "action": e.action,
            "object": f"{e.object_type}:{e.object_id}",
            "round": e.round_id,
            "details": dict(e.details or {}),
        }
        for e in found
        if (e.object_type, e.object_id) in known
        or e.actor in actors
        or holds_value(e.details, values)
    )


def local_time(uow: UnitOfWork, at: dt.datetime | None) -> str | None:
    """An instant in the board's zone, to the second."""
    if at is None:
        return None
    return at.astimezone(zone(uow.timezone)).isoformat(timespec="seconds")


def _day(on: dt.date | None) -> str | None:
    return on.isoformat() if on is not None else None
