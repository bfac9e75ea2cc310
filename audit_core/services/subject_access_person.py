"""A subject access request about one person: :func:`person_parts`.

A person is asked for by an id (an auditor's in ``people.yaml``, or a dashboard user's
sign-in name) or by an email address (which also finds agency leads, the business unit's
contacts and action owners named only by address). Everything found under any of their
ids and addresses is listed: see :mod:`audit_core.services.subject_access`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, cast, func, or_, select

from audit_core.domain.errors import NotFound
from audit_core.domain.models import (
    Action,
    ActionUpdate,
    Assignment,
    OutboxMessage,
    Person,
    PortalSession,
    PortalUser,
)
from audit_core.domain.subject_access import Part, is_address, like_pattern
from audit_core.services.subject_access import (
    action_row,
    audit_row,
    events_about,
    local_time,
    message_row,
    return_row,
    returns_of,
)
from audit_core.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Who:
    """The ids and addresses one person is known by."""

    asked: str
    person_ids: frozenset[str]  # auditors (the person table)
    user_ids: frozenset[str]  # dashboard users
    emails: frozenset[str]  # lower case

    @property
    def actors(self) -> list[str]:
        """The names the audit trail gives them when they act."""
        made = [f"link:{p}" for p in sorted(self.person_ids)]
        return made + [f"{how}:{u}" for u in sorted(self.user_ids) for how in ("portal", "cli")]


def person_parts(uow: UnitOfWork, asked: str) -> tuple[Part, ...]:
    who = _who(uow, asked)
    config_rows = _configuration_rows(uow, who)
    audits = _audits(uow, who)
    actions = _actions(uow, who)
    messages = _messages_to(uow, who)
    users = _users(uow, who)
    people = _people(uow, who)
    found = (config_rows, people, audits, actions, messages, users)
    if not any(found):
        raise NotFound(
            f"Nobody known as '{asked}' is held by auditround: no auditor, agency lead, "
            "business unit contact, action owner, dashboard user or email recipient has "
            "that id or address."
        )
    returns = returns_of(uow, audits)
    actions_ids = [a.id for a in actions]
    return (
        Part("configuration", "The configuration", tuple(config_rows)),
        Part("auditor", "Auditor record", tuple(_person_row(p) for p in people)),
        Part("audits", "Audits given to them", tuple(audit_row(uow, a) for a in audits)),
        Part("returns", "Returns they wrote", tuple(return_row(uow, r) for r in returns)),
        Part("actions", "Actions they own", tuple(action_row(a) for a in actions)),
        Part("updates", "Updates of their actions", _updates(uow, who, actions_ids)),
        Part(
            "emails",
            "Emails sent to them",
            tuple(message_row(uow, m) for m in messages),
            note="Who each went to and when; 'auditround outbox show ID' shows one as sent.",
        ),
        Part("dashboard", "Dashboard account", tuple(users)),
        Part(
            "events",
            "The audit trail",
            events_about(
                uow,
                objects=[("person", p) for p in who.person_ids]
                + [("portal_user", u) for u in who.user_ids]
                + [("action", str(i)) for i in actions_ids],
                values=[*who.person_ids, *who.user_ids, *who.emails],
                actors=[*who.actors, *(f"link:action-{i}" for i in actions_ids)],
            ),
        ),
    )


def _who(uow: UnitOfWork, asked: str) -> Who:
    """Everyone matching the id or address asked for, with all their ids and addresses."""
    session, key = uow.session, asked.casefold()
    if is_address(asked):
        people = session.scalars(select(Person).where(func.lower(Person.email) == key))
        users = session.scalars(select(PortalUser).where(func.lower(PortalUser.email) == key))
        auditors = [a for a in uow.config.auditors if a.email.casefold() == key]
    else:
        people = session.scalars(select(Person).where(Person.id == asked))
        users = session.scalars(select(PortalUser).where(PortalUser.id == asked))
        auditors = [a for a in uow.config.auditors if a.id == asked]
    people_found, users_found = list(people), list(users)
    person_ids = {p.id for p in people_found} | {a.id for a in auditors}
    emails = {p.email.casefold() for p in people_found} | {a.email.casefold() for a in auditors}
    emails |= {u.email.casefold() for u in users_found}
    if is_address(asked):
        emails.add(key)
    return Who(
        asked, frozenset(person_ids), frozenset(u.id for u in users_found), frozenset(emails)
    )


def _configuration_rows(uow: UnitOfWork, who: Who) -> list[dict[str, Any]]:
    config, rows = uow.config, []
    for a in config.auditors:
        if a.id in who.person_ids or a.email.casefold() in who.emails:
            rows.append({"file": "people.yaml", "as": "auditor"} | a.model_dump(mode="json"))
    for agency in config.agencies:
        if agency.lead.email.casefold() in who.emails:
            lead = agency.lead.model_dump(mode="json")
            rows.append({"file": "agencies.yaml", "as": f"lead of {agency.id}"} | lead)
    unit = config.board.business_unit
    contacts = [("business unit manager", unit.manager)]
    contacts += [("QA subgroup", unit.qa_subgroup)] if unit.qa_subgroup else []
    for label, contact in contacts:
        if contact.email.casefold() in who.emails:
            rows.append({"file": "board.yaml", "as": label} | contact.model_dump(mode="json"))
    for contact in config.business_unit_contacts:
        if contact.email.casefold() in who.emails:
            rows.append(
                {"file": "people.yaml", "as": "business unit"} | contact.model_dump(mode="json")
            )
    return rows


def _people(uow: UnitOfWork, who: Who) -> list[Person]:
    if not who.person_ids:
        return []
    return list(
        uow.session.scalars(select(Person).where(Person.id.in_(who.person_ids)).order_by(Person.id))
    )


def _person_row(p: Person) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "email": p.email,
        "agency": p.agency_id,
        "areas": list(p.areas or ()),
        "capacity": p.capacity,
        "practitioner_ids": list(p.practitioner_ids or ()),
        "active": p.active,
    }


def _audits(uow: UnitOfWork, who: Who) -> list[Assignment]:
    if not who.person_ids:
        return []
    return list(
        uow.session.scalars(
            select(Assignment)
            .where(Assignment.auditor_id.in_(who.person_ids))
            .order_by(Assignment.id)
        )
    )


def _actions(uow: UnitOfWork, who: Who) -> list[Action]:
    conditions = [func.lower(Action.owner_email).in_(who.emails)]
    if who.person_ids:
        conditions.append(Action.owner_id.in_(who.person_ids))
    return list(uow.session.scalars(select(Action).where(or_(*conditions)).order_by(Action.id)))


def _updates(uow: UnitOfWork, who: Who, action_ids: Sequence[int]) -> tuple[dict[str, Any], ...]:
    """Every update of their actions, and any update they wrote on another's."""
    conditions = [ActionUpdate.by.in_(who.actors)]
    if action_ids:
        conditions.append(ActionUpdate.action_id.in_(action_ids))
    rows = uow.session.scalars(
        select(ActionUpdate).where(or_(*conditions)).order_by(ActionUpdate.id)
    )
    return tuple(
        {
            "action": u.action_id,
            "at": local_time(uow, u.at),
            "by": u.by,
            "status": u.status,
            "rag": u.rag,
            "note": u.note,
            "evidence": u.evidence,
        }
        for u in rows
    )


def _messages_to(uow: UnitOfWork, who: Who) -> list[OutboxMessage]:
    if not who.emails:
        return []
    listed = func.lower(cast(OutboxMessage.recipients, Text))
    found = uow.session.scalars(
        select(OutboxMessage)
        .where(or_(*(listed.like(like_pattern(e), escape="\\") for e in sorted(who.emails))))
        .order_by(OutboxMessage.id)
    )
    return [m for m in found if any(r.casefold() in who.emails for r in m.recipients or ())]


def _users(uow: UnitOfWork, who: Who) -> list[dict[str, Any]]:
    if not who.user_ids:
        return []
    rows = []
    for user in uow.session.scalars(
        select(PortalUser).where(PortalUser.id.in_(who.user_ids)).order_by(PortalUser.id)
    ):
        sessions = uow.session.scalar(select(func.count()).where(PortalSession.user_id == user.id))
        rows.append(
            {
                "id": user.id,
                "name": user.name,
                "email": user.email,
                "role": user.role,
                "active": user.active,
                "created_at": local_time(uow, user.created_at),
                "password_changed_at": local_time(uow, user.password_changed_at),
                "sessions_held": sessions or 0,
                "password": "kept as an Argon2id hash only, not listed",
            }
        )
    return rows
