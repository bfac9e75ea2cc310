"""The look-ups the use cases share: rounds, their cases and assignments, candidates, auditors.

Plain reads over the unit of work's session; nothing here changes a row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.expression import ColumnElement

from audit_core.domain.assignment import Auditor
from audit_core.domain.errors import NotFound, PlanningError
from audit_core.domain.models import (
    Area,
    Assignment,
    AssignmentStatus,
    AuditEvent,
    AuditRound,
    CaseFile,
    CaseInvolvement,
    OutboxMessage,
    OutboxStatus,
    Person,
    RoundCase,
    RoundStatus,
    delivery_state,
)
from audit_core.domain.periods import parse_round_id
from audit_core.domain.selection import Candidate, Involvement
from audit_core.domain.trail_append import deferred


def get_round(session: Session, round_id: str) -> AuditRound:
    audit_round = session.get(AuditRound, parse_round_id(round_id))  # or 2026-H1-cancelled-1
    if audit_round is None:
        raise NotFound(f"There is no round {round_id}: it has not been planned.")
    return audit_round


def find_round_case(
    session: Session, audit_round: AuditRound, reference: str, area_id: str | None = None
) -> RoundCase:
    """The round's case with this reference (the area is needed only if it is ambiguous)."""
    query = (
        select(RoundCase)
        .join(CaseFile, CaseFile.id == RoundCase.case_id)
        .where(RoundCase.round_id == audit_round.id, CaseFile.reference == reference)
    )
    if area_id is not None:
        query = query.where(RoundCase.area_id == area_id)
    found = list(session.scalars(query))
    if not found:
        raise NotFound(f"Case {reference} is not in round {audit_round.id}.")
    if len(found) > 1:
        areas = ", ".join(sorted(rc.area_id for rc in found))
        raise PlanningError(
            f"Case reference {reference} is in round {audit_round.id} in several areas "
            f"({areas}); say which area is meant.",
            missing="area",
        )
    return found[0]


def load_candidates(
    session: Session,
    *,
    area_ids: Iterable[str],
    categories: Iterable[str] | None = None,
    references: Iterable[str] | None = None,
    active_since: dt.date | None = None,
) -> list[Candidate]:
    """The register's cases in these areas (optionally only some categories or references,
    or only those with activity on or after ``active_since``).

    Plain column queries (cases, then their involvements), not ORM objects: a register
    can hold a hundred thousand cases.
    """
    area_ids = list(area_ids)
    conditions: list[ColumnElement[bool]] = [CaseFile.area_id.in_(area_ids)]
    if categories is not None:
        conditions.append(CaseFile.category.in_(list(categories)))
    if references is not None:
        conditions.append(CaseFile.reference.in_(list(references)))
    if active_since is not None:
        conditions.append(CaseFile.last_activity_on >= active_since)
    in_rounds: dict[int, str] = {
        case_id: round_id
        for case_id, round_id in session.execute(
            select(RoundCase.case_id, RoundCase.round_id)
            .join(AuditRound, AuditRound.id == RoundCase.round_id)
            .where(
                AuditRound.status.not_in([RoundStatus.CLOSED, RoundStatus.CANCELLED]),
                RoundCase.area_id.in_(area_ids),
            )
        )
    }
    involvements: dict[int, list[Involvement]] = defaultdict(list)
    for case_id, agency_id, practitioner_ids in session.execute(
        select(CaseInvolvement.case_id, CaseInvolvement.agency_id, CaseInvolvement.practitioner_ids)
        .join(CaseFile, CaseFile.id == CaseInvolvement.case_id)
        .where(*conditions)
        .order_by(CaseInvolvement.case_id, CaseInvolvement.agency_id)
    ):
        involvements[case_id].append(Involvement(agency_id, frozenset(practitioner_ids or ())))
    rows = session.execute(
        select(
            CaseFile.id,
            CaseFile.reference,
            CaseFile.area_id,
            CaseFile.category,
            CaseFile.age_band,
            CaseFile.flags,
            CaseFile.last_activity_on,
            CaseFile.last_audited_on,
        ).where(*conditions)
    )
    return [
        Candidate(
            case_id=row.id,
            reference=row.reference,
            area_id=row.area_id,
            category=row.category,
            age_band=row.age_band,
            flags=frozenset(row.flags or ()),
            last_activity_on=row.last_activity_on,
            last_audited_on=row.last_audited_on,
            involvements=tuple(involvements.get(row.id, ())),
            in_round=in_rounds.get(row.id),
        )
        for row in rows
    ]


def newest_activity(
    session: Session, *, area_ids: Iterable[str], categories: Iterable[str]
) -> dt.date | None:
    """The register's most recent ``last_activity_on`` in these areas and categories."""
    return session.scalar(
        select(func.max(CaseFile.last_activity_on)).where(
            CaseFile.area_id.in_(list(area_ids)), CaseFile.category.in_(list(categories))
        )
    )


def round_auditors(
    session: Session, round_id: str, *, except_assignment: int | None = None
) -> list[Auditor]:
    """Every auditor, with the cases they already hold in this round (``held``) and in the
    other rounds whose fieldwork overlaps it (``held_elsewhere``): capacity holds across both."""
    held_query = (
        select(Assignment.auditor_id, func.count())
        .join(RoundCase, RoundCase.id == Assignment.round_case_id)
        .where(
            RoundCase.round_id == round_id,
            Assignment.auditor_id.is_not(None),
            Assignment.status != AssignmentStatus.DECLINED,
        )
        .group_by(Assignment.auditor_id)
    )
    if except_assignment is not None:
        held_query = held_query.where(Assignment.id != except_assignment)
    held: dict[str, int] = {k: int(v) for k, v in session.execute(held_query).all() if k}
    elsewhere = held_in_overlapping_rounds(session, round_id)
    return [
        Auditor(
            id=person.id,
            agency_id=person.agency_id,
            areas=frozenset(person.areas or ()),
            capacity=person.capacity,
            held=held.get(person.id, 0),
            held_elsewhere=elsewhere.get(person.id, 0),
            practitioner_ids=frozenset(person.practitioner_ids or ()),
            active=person.active,
        )
        for person in session.scalars(select(Person).order_by(Person.id))
    ]


def held_in_overlapping_rounds(session: Session, round_id: str) -> dict[str, int]:
    """Auditor id -> the audits they hold in other rounds whose fieldwork (launch to due
    date) overlaps this round's; cancelled rounds and declined audits do not count."""
    this = session.get(AuditRound, round_id)
    if this is None:
        return {}
    other = (
        select(Assignment.auditor_id, func.count())
        .join(RoundCase, RoundCase.id == Assignment.round_case_id)
        .join(AuditRound, AuditRound.id == RoundCase.round_id)
        .where(
            AuditRound.id != round_id,
            AuditRound.status != RoundStatus.CANCELLED,
            AuditRound.launch_on <= this.due_on,
            AuditRound.due_on >= this.launch_on,
            Assignment.auditor_id.is_not(None),
            Assignment.status != AssignmentStatus.DECLINED,
        )
        .group_by(Assignment.auditor_id)
    )
    return {k: int(v) for k, v in session.execute(other).all() if k}


def removed_case_ids(session: Session, round_id: str) -> set[int]:
    """The cases taken out of the round, by the trail (this transaction's events included)."""
    recorded = session.scalars(
        select(AuditEvent.details).where(
            AuditEvent.round_id == round_id, AuditEvent.action == "case_removed"
        )
    )
    waiting = [
        e["details"]
        for e in deferred(session)
        if e["round_id"] == round_id and e["action"] == "case_removed"
    ]
    return {int(d["case_id"]) for d in [*recorded, *waiting] if "case_id" in d}


def round_assignments(session: Session, round_id: str) -> list[Assignment]:
    """Every assignment of the round, with its case, agency and auditor loaded."""
    return list(
        session.scalars(
            select(Assignment)
            .join(RoundCase, Assignment.round_case_id == RoundCase.id)
            .where(RoundCase.round_id == round_id)
            .order_by(RoundCase.id, Assignment.agency_id)
            .options(
                selectinload(Assignment.round_case).selectinload(RoundCase.case),
                selectinload(Assignment.agency),
                selectinload(Assignment.auditor),
            )
        )
    )


def area_names(session: Session) -> dict[str, str]:
    return {area.id: area.name for area in session.scalars(select(Area))}


def practitioners_on(session: Session, case_id: int, agency_id: str) -> frozenset[str]:
    """The ids of the agency's practitioners who worked on the case (for conflicts of interest)."""
    found = session.scalar(
        select(CaseInvolvement.practitioner_ids).where(
            CaseInvolvement.case_id == case_id, CaseInvolvement.agency_id == agency_id
        )
    )
    return frozenset(found or ())


def messages_by_key(session: Session, keys: Sequence[str]) -> dict[str, Any]:
    """The outbox messages of these dedupe keys that are in the outbox: key -> a row with
    the message's ``id``, ``message_id`` and ``status`` (500 keys a query)."""
    found: dict[str, Any] = {}
    for start in range(0, len(keys), 500):
        rows = session.execute(
            select(
                OutboxMessage.dedupe_key,
                OutboxMessage.id,
                OutboxMessage.message_id,
                OutboxMessage.status,
            ).where(OutboxMessage.dedupe_key.in_(list(keys[start : start + 500])))
        )
        found.update({row.dedupe_key: row for row in rows})
    return found


def message_statuses(session: Session, keys: Sequence[str]) -> dict[str, str]:
    """The outbox status of each of these dedupe keys that is in the outbox."""
    return {key: row.status for key, row in messages_by_key(session, keys).items()}


def task_message_states(session: Session, assignments: Iterable[Assignment]) -> dict[int, str]:
    """The outbox status of each assignment's current task email (assignment id -> status).

    An assignment without a task in the outbox is left out.
    """
    by_key = {a.task_key: a.id for a in assignments}
    return {by_key[key]: status for key, status in message_statuses(session, list(by_key)).items()}


def shown_states(session: Session, assignments: Iterable[Assignment]) -> dict[int, str]:
    """What each assignment really is (``delivery_state``): assignment id -> state."""
    assignments = list(assignments)
    messages = task_message_states(session, assignments)
    return {a.id: delivery_state(a.status, messages.get(a.id)) for a in assignments}


def bounced_addresses(session: Session) -> dict[str, tuple[int, str]]:
    """Each address the mail server refused for good (a 5xx answer, on a message that failed
    or was sent to its other recipients), lower-cased: the latest refused message's id and
    the server's answer. Sending that message again (``outbox retry``) and having it
    accepted clears it."""
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.refused_recipients)
        .where(
            OutboxMessage.status.in_((OutboxStatus.FAILED, OutboxStatus.SENT)),
            cast(OutboxMessage.refused_recipients, Text) != "{}",
        )
        .order_by(OutboxMessage.id)
    )
    bounced: dict[str, tuple[int, str]] = {}
    for message_id, refused in rows:
        for address, answer in (refused or {}).items():
            if str(answer).strip().startswith("5"):
                bounced[address.lower()] = (message_id, str(answer))
    return bounced
